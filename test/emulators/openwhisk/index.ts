/**
 * The OpenWhisk REST emulator for tests and benchmarks: {@link startOpenWhiskEmulator} and the
 * helpers and types that go with it.
 */
export { startOpenWhiskEmulator } from "./server.js";
export { actionZip } from "./action-zip.js";
export { END_MARKER } from "./container.js";
export { DEFAULT_PROXY_PATH } from "./emulator-state.js";
export { FIXTURE_PROXY_PATH } from "./fixture-paths.js";
export type {
  ActionDoc,
  ActionLimits,
  ActivationRecord,
  ActivationResponse,
  ActivationStatus,
  KeyValue,
  LimitBounds,
  OpenWhiskEmulator,
  OpenWhiskEmulatorOptions,
  OpenWhiskEmulatorStats,
  OpenWhiskFaultKind,
  OpenWhiskFaults,
  PackageDoc,
} from "./types.js";
