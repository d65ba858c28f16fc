// Public surface of the forward client.
export { createForwardClient, type ForwardClientOptions } from './client.js';
export type { ForwardTlsOptions } from './connect.js';
export {
  ForwardAuthError,
  ForwardClosedError,
  ForwardConfigError,
  ForwardConnectionError,
  ForwardDeliveryTimeoutError,
  ForwardEncodeError,
  ForwardError,
  ForwardRecordTooLargeError,
  ForwardUnsettledError,
} from './errors.js';
export { Utf8Bytes } from './utf8-bytes.js';
export { FLUENT_BIT_BUFFER_MAX_SIZE, createEventTimeCodec, EventTimeValue, type ForwardMode } from './frames.js';
