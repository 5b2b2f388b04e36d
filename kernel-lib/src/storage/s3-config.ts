/**
 * From a config section (`s3`, `ibm_cos`, `minio`) to the options of {@link S3Storage}: endpoint,
 * region, addressing style and where the credentials come from. Loads no SDK.
 */
import type { ConfigSection } from "../config/types.js";
import { ErrorCodes, TswrenError } from "../errors.js";

/** The config sections served by the S3 backend. */
export type S3Section = "s3" | "ibm_cos" | "minio";

/** Where request credentials come from. */
export type S3Credentials =
  /** HMAC keys (SigV4 signing). */
  | { kind: "static"; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** The AWS default chain: environment, shared files, SSO, container and instance roles. */
  | { kind: "default-chain" }
  /** An IBM Cloud IAM API key exchanged for bearer tokens. */
  | { kind: "ibm-iam"; apiKey: string; tokenUrl?: string };

/** Everything {@link S3Storage} needs; built by {@link s3StorageOptions} from a config section. */
export interface S3StorageOptions {
  /** Config section the options came from, named in error messages. */
  section: S3Section;
  /** Endpoint URL; undefined means AWS S3 of `region`. */
  endpoint: string | undefined;
  /** Signing region (and bucket location on AWS). */
  region: string;
  /** Address buckets as `endpoint/bucket` instead of `bucket.endpoint`. */
  forcePathStyle: boolean;
  credentials: S3Credentials;
  /** The config keys to check when credentials are refused, e.g. `minio.access_key_id and ...`. */
  credentialKeys: string;
  /** Send `LocationConstraint: region` when creating buckets (AWS outside us-east-1, MinIO). */
  createBucketWithRegion: boolean;
  /** Most open connections per host (parallel ranged reads); default 64. */
  maxSockets?: number;
  /** Time limit to establish a connection; default 3000 ms. */
  connectTimeoutMs?: number;
  /** Longest a connection may stay silent during a request or a body read; default 20000 ms. */
  socketTimeoutMs?: number;
  /** Attempts per request, the first included (network errors, 5xx, throttling); default 3. */
  maxAttempts?: number;
}

/** Internal knobs that are not config keys (tests, embedding). */
export interface S3StorageOverrides {
  /** Replace the IBM IAM token endpoint (tests run a local one). */
  iamTokenUrl?: string;
  /** Use `ibm_cos.private_endpoint` when set (default: when running inside an OpenWhisk action). */
  usePrivateEndpoint?: boolean;
  maxSockets?: number;
  connectTimeoutMs?: number;
  socketTimeoutMs?: number;
  maxAttempts?: number;
}

/** The keys every S3-style section may hold for HMAC credentials. */
interface HmacKeys {
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
}

/** A set string, or undefined for an absent or empty one. */
function set(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

function credentialsError(section: S3Section, message: string): TswrenError {
  return new TswrenError(ErrorCodes.STORAGE_CREDENTIALS, `${message} in the ${section} config section`);
}

/** HMAC keys when both are set; an error when only one is; undefined when neither is. */
function hmacKeys(section: S3Section, config: HmacKeys): S3Credentials | undefined {
  const accessKeyId = set(config.access_key_id);
  const secretAccessKey = set(config.secret_access_key);
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined) throw credentialsError(section, `${section}.secret_access_key is set but ${section}.access_key_id is not: set both`);
  if (secretAccessKey === undefined) throw credentialsError(section, `${section}.access_key_id is set but ${section}.secret_access_key is not: set both`);
  const sessionToken = set(config.session_token);
  return { kind: "static", accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
}

const hmacKeyNames = (section: S3Section): string => `${section}.access_key_id and ${section}.secret_access_key`;

function awsOptions(config: ConfigSection<"s3">): S3StorageOptions {
  const region = config.region;
  return {
    section: "s3",
    endpoint: set(config.endpoint),
    region,
    forcePathStyle: config.force_path_style,
    credentials: hmacKeys("s3", config) ?? { kind: "default-chain" },
    credentialKeys: hmacKeyNames("s3"),
    createBucketWithRegion: region !== "us-east-1",
  };
}

/** The public IBM COS endpoint of a region, e.g. `us-south`. */
export function ibmCosEndpoint(region: string): string {
  return `https://s3.${region}.cloud-object-storage.appdomain.cloud`;
}

function ibmCosOptions(config: ConfigSection<"ibm_cos">, overrides: S3StorageOverrides): S3StorageOptions {
  const region = set(config.region);
  const privateEndpoint = set(config.private_endpoint);
  const usePrivate = overrides.usePrivateEndpoint ?? process.env["__OW_ACTIVATION_ID"] !== undefined;
  const endpoint = (usePrivate ? privateEndpoint : undefined) ?? set(config.endpoint) ?? (region === undefined ? undefined : ibmCosEndpoint(region));
  if (endpoint === undefined) {
    throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, "the ibm_cos config section needs endpoint or region (e.g. region: us-south)");
  }
  const apiKey = set(config.api_key);
  const credentials: S3Credentials | undefined =
    apiKey !== undefined
      ? { kind: "ibm-iam", apiKey, ...(overrides.iamTokenUrl === undefined ? {} : { tokenUrl: overrides.iamTokenUrl }) }
      : hmacKeys("ibm_cos", config);
  if (credentials === undefined) {
    throw credentialsError("ibm_cos", "no IBM COS credentials: set ibm_cos.api_key, or ibm_cos.access_key_id and ibm_cos.secret_access_key,");
  }
  return {
    section: "ibm_cos",
    endpoint,
    region: region ?? "us-east-1",
    forcePathStyle: true,
    credentials,
    credentialKeys: apiKey !== undefined ? "ibm_cos.api_key" : hmacKeyNames("ibm_cos"),
    createBucketWithRegion: false,
  };
}

function minioOptions(config: ConfigSection<"minio">): S3StorageOptions {
  const credentials = hmacKeys("minio", config);
  if (credentials === undefined) throw credentialsError("minio", `no MinIO credentials: set ${hmacKeyNames("minio")}`);
  const region = config.region;
  return {
    section: "minio",
    endpoint: config.endpoint,
    region,
    forcePathStyle: true,
    credentials,
    credentialKeys: hmacKeyNames("minio"),
    createBucketWithRegion: region !== "us-east-1",
  };
}

type SectionOptions<S extends S3Section> = (config: ConfigSection<S>, overrides: S3StorageOverrides) => S3StorageOptions;

/** How each section becomes options. */
const SECTION_OPTIONS: { readonly [S in S3Section]: SectionOptions<S> } = {
  s3: (config) => awsOptions(config),
  ibm_cos: (config, overrides) => ibmCosOptions(config, overrides),
  minio: (config) => minioOptions(config),
};

/**
 * The options of an S3 storage backend from its validated config section.
 * @param section - `s3`, `ibm_cos` or `minio`
 * @param config - the loaded section (from the config, or `validateSection` for keys written by hand)
 * @param overrides - internal knobs that are not config keys
 * @returns the options for {@link S3Storage}
 * @throws TswrenError `TSWREN_STORAGE_CREDENTIALS` when credentials are missing or half set,
 *   `TSWREN_CONFIG_BAD_VALUE` when no endpoint can be derived
 */
export function s3StorageOptions<S extends S3Section>(section: S, config: ConfigSection<S>, overrides: S3StorageOverrides = {}): S3StorageOptions {
  const build: SectionOptions<S> = SECTION_OPTIONS[section];
  const base = build(config, overrides);
  const { maxSockets, connectTimeoutMs, socketTimeoutMs, maxAttempts } = overrides;
  return {
    ...base,
    ...(maxSockets === undefined ? {} : { maxSockets }),
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
    ...(socketTimeoutMs === undefined ? {} : { socketTimeoutMs }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  };
}
