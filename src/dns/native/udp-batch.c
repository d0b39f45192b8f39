// Batched UDP for the DNS server: recvmmsg up to BATCH queries when the
// socket is readable, one call into JavaScript for the whole batch, then one
// sendmmsg for the answers. Node's own dgram loop costs a recvmsg, a sendmsg
// and a JavaScript call per packet; this is what that saves.
//
// Shared memory with JavaScript (all set up by attach()):
//   in:   BATCH slots of SLOT bytes, the queries
//   out:  BATCH slots of SLOT bytes, the answers JavaScript writes
//   meta: BATCH records of 8 int32: [query length, answer length (0: none),
//         family (4/6), port, address as 4 int32 (16 bytes)]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#define BATCH 64
#define SLOT 4096
#define ROUNDS 8

typedef struct {
  uv_poll_t poll;
  int fd;
  napi_env env;
  napi_ref callback;
  napi_ref buffers[3];
  napi_async_context async;
  uint8_t *in, *out;
  int32_t *meta;
  struct mmsghdr rmsg[BATCH], smsg[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  struct sockaddr_storage addr[BATCH];
  int closing;
} batch_t;

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  batch_t *b = (batch_t *)poll->data;
  if (status < 0 || b->closing) return;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < BATCH; i++) {
      b->riov[i].iov_base = b->in + (size_t)i * SLOT;
      b->riov[i].iov_len = SLOT;
      memset(&b->rmsg[i].msg_hdr, 0, sizeof(struct msghdr));
      b->rmsg[i].msg_hdr.msg_iov = &b->riov[i];
      b->rmsg[i].msg_hdr.msg_iovlen = 1;
      b->rmsg[i].msg_hdr.msg_name = &b->addr[i];
      b->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int n = recvmmsg(b->fd, b->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;  // EAGAIN: another worker took them, or nothing left
    for (int i = 0; i < n; i++) {
      int32_t *m = b->meta + i * 8;
      m[0] = (b->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? SLOT : (int32_t)b->rmsg[i].msg_len;
      m[1] = 0;
      struct sockaddr_storage *sa = &b->addr[i];
      if (sa->ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
        m[2] = 4;
        m[3] = ntohs(s4->sin_port);
        memcpy(&m[4], &s4->sin_addr, 4);
      } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
        m[2] = 6;
        m[3] = ntohs(s6->sin6_port);
        memcpy(&m[4], &s6->sin6_addr, 16);
      }
    }
    napi_handle_scope scope;
    napi_open_handle_scope(b->env, &scope);
    napi_value fn, recv, arg, result;
    napi_get_reference_value(b->env, b->callback, &fn);
    napi_get_global(b->env, &recv);
    napi_create_int32(b->env, n, &arg);
    napi_status st = napi_make_callback(b->env, b->async, recv, fn, 1, &arg, &result);
    napi_close_handle_scope(b->env, scope);
    if (st != napi_ok) return;
    int k = 0;
    for (int i = 0; i < n; i++) {
      int32_t len = b->meta[i * 8 + 1];
      if (len <= 0 || len > SLOT) continue;
      b->siov[k].iov_base = b->out + (size_t)i * SLOT;
      b->siov[k].iov_len = (size_t)len;
      memset(&b->smsg[k].msg_hdr, 0, sizeof(struct msghdr));
      b->smsg[k].msg_hdr.msg_iov = &b->siov[k];
      b->smsg[k].msg_hdr.msg_iovlen = 1;
      b->smsg[k].msg_hdr.msg_name = &b->addr[i];
      b->smsg[k].msg_hdr.msg_namelen = b->rmsg[i].msg_hdr.msg_namelen;
      k++;
    }
    // A full send buffer drops the rest of the batch, as a busy UDP server does.
    for (int sent = 0; sent < k;) {
      int r = sendmmsg(b->fd, b->smsg + sent, k - sent, MSG_DONTWAIT);
      if (r <= 0) break;
      sent += r;
    }
    if (n < BATCH) return;
  }
}

static void on_closed(uv_handle_t *h) { free(h->data); }

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, "ERR_DNS_NATIVE", msg);
  return NULL;
}

// attach(fd, in, out, meta, callback) -> handle; close(handle)
static napi_value attach(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_error(env, "attach(fd, in, out, meta, callback)");
  batch_t *b = calloc(1, sizeof(batch_t));
  if (!b) return throw_error(env, "out of memory");
  napi_get_value_int32(env, argv[0], &b->fd);
  size_t len;
  void *p;
  napi_get_buffer_info(env, argv[1], &p, &len);
  if (len < (size_t)BATCH * SLOT) return throw_error(env, "in buffer too small");
  b->in = p;
  napi_get_buffer_info(env, argv[2], &p, &len);
  if (len < (size_t)BATCH * SLOT) return throw_error(env, "out buffer too small");
  b->out = p;
  napi_get_buffer_info(env, argv[3], &p, &len);
  if (len < (size_t)BATCH * 8 * 4) return throw_error(env, "meta buffer too small");
  b->meta = p;
  for (int i = 0; i < 3; i++) napi_create_reference(env, argv[i + 1], 1, &b->buffers[i]);
  napi_create_reference(env, argv[4], 1, &b->callback);
  b->env = env;
  napi_value name;
  napi_create_string_utf8(env, "meridian.dns.udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &b->async);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &b->poll, b->fd) != 0) return throw_error(env, "uv_poll_init failed");
  b->poll.data = b;
  uv_poll_start(&b->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, b, NULL, NULL, &handle);
  return handle;
}

static napi_value close_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  batch_t *b;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&b) != napi_ok) return NULL;
  if (b->closing) return NULL;
  b->closing = 1;
  uv_poll_stop(&b->poll);
  napi_delete_reference(env, b->callback);
  for (int i = 0; i < 3; i++) napi_delete_reference(env, b->buffers[i]);
  napi_async_destroy(env, b->async);
  uv_close((uv_handle_t *)&b->poll, on_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "attach", NAPI_AUTO_LENGTH, attach, NULL, &fn);
  napi_set_named_property(env, exports, "attach", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_batch, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  napi_value v;
  napi_create_int32(env, BATCH, &v);
  napi_set_named_property(env, exports, "batch", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, exports, "slot", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
