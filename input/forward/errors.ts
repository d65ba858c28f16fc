// Typed errors of the forward client. Each says what happened and what to fix; none carries a secret.
// Each class has a stable `code` and says whether it is `fatal` (../errors.ts).
import { JumpCloudError } from '../errors.js';

/** Base class: every error the forward client raises. */
export class ForwardError extends JumpCloudError {
  static override readonly code: string = 'FORWARD_ERROR';
}

/**
 * Fluent Bit refused the handshake: a shared_key or security.users mismatch, or it wants a shared key that
 * was not configured. Fatal: retrying cannot help until the configuration changes.
 */
export class ForwardAuthError extends ForwardError {
  static override readonly code: string = 'FORWARD_AUTH';
  override readonly fatal: boolean = true;
  constructor(
    message: string,
    readonly reason: 'shared_key' | 'user' | 'shared_key_required' | 'server_digest',
  ) {
    super(message);
  }
}

/** The client was closed (or is closing) before the data could be sent or acknowledged. */
export class ForwardClosedError extends ForwardError {
  static override readonly code: string = 'FORWARD_CLOSED';
  override readonly fatal: boolean = true;
}

/** One entry alone encodes to more bytes than a forward frame may carry (Fluent Bit's buffer_max_size). */
export class ForwardRecordTooLargeError extends ForwardError {
  static override readonly code: string = 'FORWARD_RECORD_TOO_LARGE';
  override readonly fatal: boolean = true;
  constructor(
    message: string,
    readonly index: number,
    readonly bytes: number,
  ) {
    super(message);
  }
}

/** An entry the protocol cannot carry (time out of EventTime's range, non-integer seconds, ...). */
export class ForwardEncodeError extends ForwardError {
  static override readonly code: string = 'FORWARD_ENCODE';
  override readonly fatal: boolean = true;
}

/** Bad options given to createForwardClient (unreadable TLS file, non-positive limits, ...). */
export class ForwardConfigError extends ForwardError {
  static override readonly code: string = 'FORWARD_CONFIG';
  override readonly fatal: boolean = true;
}

/**
 * Nothing was acknowledged for the delivery timeout while chunks waited (Fluent Bit unreachable, or reachable but
 * never acking). Fatal: the client gives up, so that a one-pass run ends instead of waiting forever.
 */
export class ForwardDeliveryTimeoutError extends ForwardError {
  static override readonly code: string = 'FORWARD_DELIVERY_TIMEOUT';
  override readonly fatal: boolean = true;
}

/** A connection-level failure that the client retries: refused, reset, ack timeout, no HELO, bad answer. */
export class ForwardConnectionError extends ForwardError {
  static override readonly code: string = 'FORWARD_CONNECTION';
  /** 'unresolved': the host name did not resolve (DNS), so no connection was even tried. */
  constructor(
    message: string,
    readonly reason?: 'unresolved',
  ) {
    super(message);
  }
}

/**
 * The connection closed within the settle time of acked chunks, and the client was told not to keep their frames
 * (settleResend 'caller'): Fluent Bit may not have stored those records. Retryable: the caller sends them again
 * from its own source (the collector re-reads them from the API; its checkpoint never passed them).
 */
export class ForwardUnsettledError extends ForwardError {
  static override readonly code: string = 'FORWARD_UNSETTLED';
  constructor(
    message: string,
    readonly entries: number,
  ) {
    super(message);
  }
}
