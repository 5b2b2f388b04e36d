/**
 * Connecting to the RabbitMQ broker of `monitoring: "rabbitmq"`, for the client (which consumes
 * call events) and the workers (which publish them). `amqplib` is loaded only here, on first
 * use. The broker URL carries credentials: nothing here ever puts it in a message.
 */
import type { ChannelModel } from "amqplib";
import { ErrorCodes, TswrenError } from "../../errors.js";

/** How long connecting (TCP, TLS and the AMQP handshake) may take before it counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * The executor's queue: one per executor, auto-deleted when the client disconnects.
 * @param executorId - the executor's id
 */
export function queueName(executorId: string): string {
  return `tswren-${executorId}`;
}

/**
 * The broker's address for messages: scheme, host, port and vhost, never the user or password.
 * @param url - an AMQP URL (may be malformed)
 */
export function describeBroker(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port === "" ? (u.protocol === "amqps:" ? "5671" : "5672") : u.port;
    const vhost = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : "/";
    return `${u.protocol}//${u.hostname}:${port} (vhost ${vhost})`;
  } catch {
    return "the configured broker";
  }
}

/**
 * Check that `url` is an `amqp://` or `amqps://` URL with a host.
 * @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` naming `rabbitmq.amqp_url` and the expected form
 *   (never the value: it may hold a password)
 */
export function checkAmqpUrl(url: unknown): string {
  let parsed: URL | null = null;
  try {
    parsed = typeof url === "string" ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (parsed === null || (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") || parsed.hostname === "") {
    throw new TswrenError(
      ErrorCodes.CONFIG_BAD_VALUE,
      'rabbitmq.amqp_url must be an amqp:// or amqps:// URL, e.g. amqp://user:password@host:5672/vhost (monitoring: "rabbitmq" needs it; or choose monitoring: "storage")',
    );
  }
  return url as string;
}

/** Strip anything that looks like the URL or its password from a library's error text. */
function sanitize(text: string, url: string): string {
  let out = text.split(url).join("<amqp_url>");
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== "") out = out.split(password).join("<hidden>");
  } catch {
    // a malformed URL was refused before connecting
  }
  return out;
}

/** A connection failure as a coded error that names the broker (not the credentials) and the fix. */
export function brokerError(err: unknown, url: string): TswrenError {
  const where = describeBroker(url);
  const raw = sanitize(err instanceof Error ? err.message : String(err), url);
  // A refused vhost shows only as the broker closing the connection instead of opening it.
  if (/ACCESS[-_]REFUSED|\b403\b|NOT[-_]ALLOWED|\b530\b|access to vhost|Expected ConnectionOpenOk/i.test(raw)) {
    return new TswrenError(
      ErrorCodes.MONITOR_CREDENTIALS,
      `the RabbitMQ broker at ${where} refused the user, password or vhost of rabbitmq.amqp_url (${raw}); check them, and that the user has permissions on the vhost`,
    );
  }
  return new TswrenError(
    ErrorCodes.MONITOR_UNREACHABLE,
    `cannot reach the RabbitMQ broker at ${where} (${raw}); check rabbitmq.amqp_url and that the broker is running, or use monitoring: "storage"`,
  );
}

/**
 * Open a connection, or fail within `timeoutMs`.
 * @param url - a checked AMQP URL
 * @param timeoutMs - bound on the whole connect
 * @throws TswrenError `TSWREN_MONITOR_UNREACHABLE` or `TSWREN_MONITOR_CREDENTIALS`
 */
export async function connectBroker(url: string, timeoutMs: number = CONNECT_TIMEOUT_MS): Promise<ChannelModel> {
  const amqp = await import("amqplib");
  let timer: NodeJS.Timeout | undefined;
  const connecting = amqp.connect(url, { timeout: timeoutMs, keepAlive: true, noDelay: true, clientProperties: { product: "tswren" } });
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new TswrenError(ErrorCodes.MONITOR_UNREACHABLE, `no answer within ${timeoutMs} ms`)); }, timeoutMs);
  });
  try {
    return await Promise.race([connecting, timedOut]);
  } catch (err) {
    // A connection that completes after the timeout is closed at once.
    connecting.then((late) => late.close(), () => undefined).catch(() => undefined);
    throw brokerError(err, url);
  } finally {
    clearTimeout(timer);
  }
}

/** The timers and socket amqplib keeps (not part of its typed API). */
interface ConnectionInternals {
  stream?: { ref?(): void; unref?(): void };
  heartbeater?: { sendTimer?: NodeJS.Timeout; recvTimer?: NodeJS.Timeout };
}

/**
 * Let an idle connection not keep the Node process alive (like the storage monitor's timers),
 * or make it do so again while calls are awaited.
 * @param model - an open connection
 * @param alive - true while calls are awaited
 */
export function keepProcessAlive(model: ChannelModel, alive: boolean): void {
  const c = model.connection as unknown as ConnectionInternals;
  const handles = [c.stream, c.heartbeater?.sendTimer, c.heartbeater?.recvTimer];
  for (const h of handles) {
    if (alive) h?.ref?.();
    else h?.unref?.();
  }
}
