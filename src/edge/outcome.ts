/** How a request ended, for metrics, the access log and the limiter. */
export type Outcome =
  | 'served'
  | 'proxied'
  | 'retried'
  | 'failover'
  | 'redirected'
  | 'shed'
  | 'failed'
  | 'rejected'
  | 'aborted'
  | 'fault';
