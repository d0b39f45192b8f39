// Batched UDP for the DNS server, as an N-API addon (binding.gyp; shipped
// prebuilt in prebuilds/, loaded by node-gyp-build). It opens and binds its
// own non-blocking socket, polls it with uv_poll, and when readable takes up
// to BATCH queries with one recvmmsg, calls JavaScript once for the whole
// batch, and sends the answers with one sendmmsg. Node's dgram loop costs a
// recvmsg, a sendmsg and a JavaScript call per packet; this is what it saves.
//
// Memory shared with JavaScript (checked by open()):
//   in:   BATCH slots of SLOT bytes, the queries
//   out:  BATCH slots of SLOT bytes, the answers JavaScript writes
//   meta: BATCH records of 8 int32: [query length, answer length (0: none),
//         family (4/6), port, address as 4 int32 (16 bytes)]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define BATCH 64
#define SLOT 4096
#define ROUNDS 8
#define META 8

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
  int in_callback;
  int closing;
  int torn_down;
  // Freed when both libuv and JavaScript (the external handle) are done with it.
  int uv_closed;
  int finalized;
} batch_t;

static void on_closed(uv_handle_t *h) {
  batch_t *b = (batch_t *)h->data;
  close(b->fd);  // only now: libuv must not watch a closed descriptor
  b->uv_closed = 1;
  if (b->finalized) free(b);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  batch_t *b = (batch_t *)data;
  b->finalized = 1;
  if (b->uv_closed) free(b);  // otherwise a socket never closed keeps serving, as a dgram socket would
}

// Releases everything; the struct itself goes in on_closed, after libuv lets go.
static void tear_down(batch_t *b) {
  if (b->torn_down) return;
  b->torn_down = 1;
  uv_poll_stop(&b->poll);
  napi_delete_reference(b->env, b->callback);
  for (int i = 0; i < 3; i++) napi_delete_reference(b->env, b->buffers[i]);
  napi_async_destroy(b->env, b->async);
  uv_close((uv_handle_t *)&b->poll, on_closed);
}

static void send_answers(batch_t *b, int n) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = b->meta[i * META + 1];
    if (len <= 0 || len > SLOT) continue;  // no answer, or JavaScript wrote nonsense
    b->siov[k].iov_base = b->out + (size_t)i * SLOT;
    b->siov[k].iov_len = (size_t)len;
    memset(&b->smsg[k].msg_hdr, 0, sizeof(struct msghdr));
    b->smsg[k].msg_hdr.msg_iov = &b->siov[k];
    b->smsg[k].msg_hdr.msg_iovlen = 1;
    b->smsg[k].msg_hdr.msg_name = &b->addr[i];
    b->smsg[k].msg_hdr.msg_namelen = b->rmsg[i].msg_hdr.msg_namelen;
    k++;
  }
  for (int sent = 0; sent < k;) {
    int r = sendmmsg(b->fd, b->smsg + sent, (unsigned)(k - sent), MSG_DONTWAIT);
    if (r > 0) {
      sent += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      break;  // a full send buffer drops the rest of the batch, as a busy UDP server does
    } else {
      sent++;  // this one destination is refused (port 0, unreachable): skip it, not the batch
    }
  }
}

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
    if (n <= 0) return;  // EAGAIN (another worker took them, or nothing left) or an error: wait
    for (int i = 0; i < n; i++) {
      int32_t *m = b->meta + i * META;
      // A datagram larger than a slot is cut to the slot (no DNS query is that long).
      m[0] = (b->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? SLOT : (int32_t)b->rmsg[i].msg_len;
      m[1] = 0;
      memset(&m[4], 0, 16);
      struct sockaddr_storage *sa = &b->addr[i];
      if (sa->ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
        m[2] = 6;
        m[3] = ntohs(s6->sin6_port);
        memcpy(&m[4], &s6->sin6_addr, 16);
      } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
        m[2] = 4;
        m[3] = ntohs(s4->sin_port);
        memcpy(&m[4], &s4->sin_addr, 4);
      }
    }
    napi_handle_scope scope;
    napi_open_handle_scope(b->env, &scope);
    napi_value fn, recv, arg, result;
    napi_get_reference_value(b->env, b->callback, &fn);
    napi_get_global(b->env, &recv);
    napi_create_int32(b->env, n, &arg);
    b->in_callback = 1;
    napi_status st = napi_make_callback(b->env, b->async, recv, fn, 1, &arg, &result);
    b->in_callback = 0;
    napi_close_handle_scope(b->env, scope);
    // Closed from inside the callback: the batch in hand is still answered, then we stop.
    if (st == napi_ok) send_answers(b, n);
    if (b->closing) {
      tear_down(b);
      return;
    }
    if (st != napi_ok || n < BATCH) return;
  }
}

static napi_value throw_code(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  return throw_code(env, uv_err_name(-err), msg);
}

static int buffer_arg(napi_env env, napi_value v, void **data, size_t min) {
  bool is;
  size_t len;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_buffer_info(env, v, data, &len) != napi_ok) return 0;
  return len >= min;
}

// With SO_REUSEPORT the kernel picks a socket by hashing the sender's address
// and port, so a few busy resolvers can land on one worker while others idle.
// This classic BPF program picks one of the group's `workers` sockets at random
// per datagram instead (as a shared socket would); an index past the sockets
// bound so far makes the kernel fall back to the hash.
static int spread_randomly(int fd, uint32_t workers) {
  struct sock_filter code[] = {
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)},
      {BPF_ALU | BPF_MOD | BPF_K, 0, 0, workers},
      {BPF_RET | BPF_A, 0, 0, 0},
  };
  struct sock_fprog prog = {.len = 3, .filter = code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

// open(address, port, workers, in, out, meta, onBatch) -> handle
// address: an IPv4 or IPv6 literal (IPv6 sockets are IPv6-only). workers > 1:
// that many processes bind the same address (SO_REUSEPORT, spread at random).
static napi_value open_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7)
    return throw_code(env, "ERR_DNS_NATIVE", "open(address, port, workers, in, out, meta, onBatch)");
  char host[INET6_ADDRSTRLEN + 1];
  size_t host_len;
  int32_t port, workers;
  napi_valuetype fn_type;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535 ||
      napi_get_value_int32(env, argv[2], &workers) != napi_ok || workers < 1 || workers > 4096 ||
      napi_typeof(env, argv[6], &fn_type) != napi_ok ||
      fn_type != napi_function)
    return throw_code(env, "ERR_DNS_NATIVE", "open(address: string, port: 0-65535, workers: 1-4096, ...)");
  void *in, *out, *meta;
  if (!buffer_arg(env, argv[3], &in, (size_t)BATCH * SLOT) ||
      !buffer_arg(env, argv[4], &out, (size_t)BATCH * SLOT) ||
      !buffer_arg(env, argv[5], &meta, (size_t)BATCH * META * 4) || ((uintptr_t)meta & 3) != 0)
    return throw_code(env, "ERR_DNS_NATIVE", "in, out and meta must be Buffers of batch*slot, batch*slot and batch*32 bytes");

  struct sockaddr_storage sa;
  socklen_t sa_len;
  memset(&sa, 0, sizeof sa);
  struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
  if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    sa_len = sizeof *s4;
  } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    sa_len = sizeof *s6;
  } else {
    return throw_code(env, "ERR_DNS_NATIVE", "address must be an IPv4 or IPv6 literal");
  }

  int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if ((workers > 1 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
      (sa.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt", err);
  }
  if (bind(fd, (struct sockaddr *)&sa, sa_len) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  // Best effort: without it (an old kernel) the hash spreads queries, which also works.
  if (workers > 1) (void)spread_randomly(fd, (uint32_t)workers);

  batch_t *b = calloc(1, sizeof(batch_t));
  if (!b) {
    close(fd);
    return throw_code(env, "ERR_DNS_NATIVE", "out of memory");
  }
  b->fd = fd;
  b->env = env;
  b->in = in;
  b->out = out;
  b->meta = meta;
  uv_loop_t *loop;
  int uv_err = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init(loop, &b->poll, fd) : UV_EINVAL;
  if (uv_err != 0) {
    close(fd);
    free(b);
    return throw_code(env, "ERR_DNS_NATIVE", "uv_poll_init failed");
  }
  b->poll.data = b;
  // The buffers and the callback live as long as the socket does.
  for (int i = 0; i < 3; i++) napi_create_reference(env, argv[i + 3], 1, &b->buffers[i]);
  napi_create_reference(env, argv[6], 1, &b->callback);
  napi_value name;
  napi_create_string_utf8(env, "meridian.dns.udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &b->async);
  uv_poll_start(&b->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, b, on_finalize, NULL, &handle);
  return handle;
}

static batch_t *handle_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok) return NULL;
  return (batch_t *)p;
}

// port(handle) -> the bound port (the one the kernel chose for port 0)
static napi_value local_port(napi_env env, napi_callback_info info) {
  batch_t *b = handle_arg(env, info);
  if (!b || b->closing) return throw_code(env, "ERR_DNS_NATIVE", "port(handle) of an open socket");
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (getsockname(b->fd, (struct sockaddr *)&sa, &len) != 0) return throw_errno(env, "getsockname", errno);
  int port = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                      : ntohs(((struct sockaddr_in *)&sa)->sin_port);
  napi_value v;
  napi_create_int32(env, port, &v);
  return v;
}

// close(handle): stops receiving and closes the socket; safe twice and from inside onBatch.
static napi_value close_batch(napi_env env, napi_callback_info info) {
  batch_t *b = handle_arg(env, info);
  if (!b || b->closing) return NULL;
  b->closing = 1;
  if (!b->in_callback) tear_down(b);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value v;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_batch, NULL, &v);
  napi_set_named_property(env, exports, "open", v);
  napi_create_function(env, "port", NAPI_AUTO_LENGTH, local_port, NULL, &v);
  napi_set_named_property(env, exports, "port", v);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_batch, NULL, &v);
  napi_set_named_property(env, exports, "close", v);
  napi_create_int32(env, BATCH, &v);
  napi_set_named_property(env, exports, "batch", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, exports, "slot", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
