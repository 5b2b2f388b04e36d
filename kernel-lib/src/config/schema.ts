/**
 * The configuration schema, declared once: every section, every key, its type, default, unit,
 * whether it is a secret and when it is required. Validation (`validate.ts`), the result types
 * (`types.ts`), redaction (`redact.ts`) and `docs/config.md` all follow this table.
 */
import { availableParallelism } from "node:os";

/** How a key's value is checked. */
export type KeyType = "string" | "url" | "path" | "bool" | "int" | "number" | "enum" | "number_list";

/** A value a key may hold after validation. */
export type ConfigValue = string | number | boolean | readonly number[];

/** One key of a section. */
export interface KeySpec {
  /** How the value is checked and typed. */
  readonly type: KeyType;
  /** One line for docs and error messages. */
  readonly description: string;
  /** Applied when no source sets the key; a function is called at load time. */
  readonly default?: ConfigValue | (() => ConfigValue);
  /** How the docs show a computed or derived default. */
  readonly defaultText?: string;
  /** Unit of a number: `s` (seconds), `ms` (milliseconds), `MB` (megabytes) or `USD` (a price). */
  readonly unit?: "s" | "ms" | "MB" | "USD";
  /** Inclusive lower bound of a number (or of each list item). */
  readonly min?: number;
  /** Exclusive lower bound of a number. */
  readonly above?: number;
  /** Inclusive upper bound of a number. */
  readonly max?: number;
  /** The allowed values of an `enum`. */
  readonly values?: readonly string[];
  /** The allowed protocols of a `url`, without the colon. */
  readonly protocols?: readonly string[];
  /** An extra rule for a `string`, with the words that say what it expects. */
  readonly pattern?: { readonly regex: RegExp; readonly expected: string };
  /** Never printed: messages and {@link redactConfig} show `<hidden>`. */
  readonly secret?: boolean;
  /** Must be set when the section is in use (see {@link SectionSpec.selectedBy}). */
  readonly required?: boolean;
}

/** One section of the config file. */
export interface SectionSpec {
  /** One line for docs. */
  readonly description: string;
  /** The section is in use when this `tswren` key has this value; absent means always in use. */
  readonly selectedBy?: { readonly key: "backend" | "storage" | "monitoring"; readonly value: string };
  /** Groups of keys of which at least one must be set when the section is in use. */
  readonly requireOneOf?: readonly (readonly string[])[];
  /** The keys, by snake_case name. */
  readonly keys: Readonly<Record<string, KeySpec>>;
}

const HTTP = ["http", "https"] as const;

/** The longest timeout in seconds a Node timer holds (2^31-1 ms); longer ones fire after 1 ms. */
const MAX_TIMER_S = 2147483;

const BUCKET_NAME = {
  regex: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  expected: "a bucket name: 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit",
} as const;

/** A key prefix that stays inside the bucket: no leading "/", no "." or ".." segment, no "//". */
const SAFE_KEY_PREFIX = {
  regex: /^(?!\/)(?!.*\/\/)(?!(?:.*\/)?\.{1,2}(?:\/|$))[^\0]*$/,
  expected: "a key prefix without a leading '/', '.' or '..' segments, or '//' (e.g. tswren.jobs)",
} as const;

/** The `signing_key` of every serverless backend section (see docs/security.md). */
export const SIGNING_KEY_SPEC = {
  type: "string", secret: true,
  defaultText: "`$TSWREN_SIGNING_KEY`, else the file `~/.tswren/keys/<backend>.key`",
  description: "Key that signs every invocation (HMAC-SHA256); the runtime must be deployed with the same key. Never stored in the bucket.",
} as const;

/**
 * Price keys of a compute section, for `fx.cost()` (docs/cost.md): list prices as defaults,
 * 0 where the user runs the machines. Billed duration = the call's time in the worker, rounded
 * up to `billing_ms`; cost = billed seconds x memory GB x `price_gb_s` + `price_million_requests` / 1e6 per call.
 */
function priceKeys(gbS: number, request: number, billingMs: number, source: string) {
  return {
    price_gb_s: { type: "number", unit: "USD", min: 0, default: gbS, description: `Price of one GB-second (memory x billed duration); default: ${source}.` },
    price_million_requests: { type: "number", unit: "USD", min: 0, default: request, description: `Price of one million invocations; default: ${source}.` },
    billing_ms: { type: "int", unit: "ms", min: 1, default: billingMs, description: "Billed durations are rounded up to a multiple of this." },
  } as const;
}

/** Keys shared by the OpenWhisk-style backends (`openwhisk`, `ibm_cf`). */
const WHISK_KEYS = {
  runtime: {
    type: "string",
    defaultText: "derived from the tswren version",
    description: "Action name of the runtime that runs the functions.",
  },
  runtime_memory: {
    type: "int", unit: "MB", min: 128, max: 2048, default: 256,
    description: "Memory of each function invocation.",
  },
  runtime_timeout: {
    type: "number", unit: "s", min: 1, max: 600, default: 300,
    description: "Time limit of each function invocation.",
  },
  invoke_pool_threads: {
    type: "int", min: 1, default: 64,
    description: "Concurrent invoke requests sent by the client.",
  },
  max_workers: {
    type: "int", min: 1, default: 100,
    description: "Most function invocations running at once.",
  },
  signing_key: SIGNING_KEY_SPEC,
} as const;

/**
 * Every config section and key. Sections without `selectedBy` are always in use; the others are
 * in use when `tswren.backend`, `tswren.storage` or `tswren.monitoring` selects them.
 */
export const CONFIG_SCHEMA = {
  tswren: {
    description: "What runs the functions, where data goes, and how calls are retried and awaited.",
    keys: {
      backend: {
        type: "enum", values: ["localhost", "openwhisk", "ibm_cf", "knative", "aws_lambda", "docker"], default: "localhost",
        description: "Compute backend that runs the functions.",
      },
      storage: {
        type: "enum", values: ["localhost", "s3", "ibm_cos", "minio"], default: "localhost",
        description: "Storage backend that holds inputs, results and status.",
      },
      storage_bucket: {
        type: "string", pattern: BUCKET_NAME, default: "tswren-data",
        description: "Bucket for job data.",
      },
      storage_prefix: {
        type: "string", pattern: SAFE_KEY_PREFIX, default: "tswren.jobs",
        description: "Key prefix of job data inside the bucket.",
      },
      data_cleaner: {
        type: "bool", default: true,
        description: "Delete a job's data when the executor is cleaned up.",
      },
      monitoring: {
        type: "enum", values: ["auto", "storage", "rabbitmq"], default: "auto",
        description: "How the client learns call status: `auto` uses the backend's own channel when it has one (localhost IPC, Knative responses) with storage polling as fallback, `storage` always polls storage, `rabbitmq` has workers publish each call's start and end to RabbitMQ (`rabbitmq.amqp_url`), with storage as fallback; see docs/monitoring.md.",
      },
      retries: {
        type: "int", min: 0, default: 0,
        description: "Extra attempts of a failed call.",
      },
      max_calls: {
        type: "int", min: 1, default: 1_000_000,
        description: "Most calls one job may have: an input generator that yields more stops there with TSWREN_TOO_MANY_CALLS, before anything is invoked.",
      },
      retry_sleeps: {
        type: "number_list", unit: "s", min: 0, default: [1, 5],
        description: "Pause before each retry; the last one repeats.",
      },
      log_level: {
        type: "enum", values: ["debug", "info", "warn", "error"], default: "warn",
        description: "Least severe log message printed.",
      },
      execution_timeout: {
        type: "number", unit: "s", above: 0, max: MAX_TIMER_S, default: 1800,
        description: "Longest a wait or getResult waits overall (at most 2147483 s, what Node timers hold); then `TSWREN_EXECUTION_TIMEOUT`.",
      },
    },
  },
  localhost: {
    description: "Worker processes on this machine.",
    keys: {
      worker_processes: {
        type: "int", min: 1, default: () => availableParallelism(), defaultText: "number of CPUs",
        description: "Worker processes running calls at once.",
      },
      runtime_memory: {
        type: "int", unit: "MB", min: 64, default: 1024,
        description: "Memory limit of each worker process.",
      },
      runtime_timeout: {
        type: "number", unit: "s", above: 0, max: MAX_TIMER_S, default: 600,
        description: "Time limit of each call (at most 2147483 s, what Node timers hold).",
      },
      ...priceKeys(0, 0, 1, "0, your own machine"),
    },
  },
  localhost_storage: {
    description: "A directory on this machine used as object storage.",
    keys: {
      storage_root: {
        type: "path", default: "~/.tswren/storage",
        description: "Directory holding one subdirectory per bucket; `~` is expanded.",
      },
    },
  },
  openwhisk: {
    description: "Apache OpenWhisk actions.",
    selectedBy: { key: "backend", value: "openwhisk" },
    keys: {
      endpoint: { type: "url", protocols: HTTP, required: true, description: "API host URL." },
      namespace: { type: "string", default: "_", description: "Namespace of the actions." },
      api_key: { type: "string", secret: true, required: true, description: "Auth key `uuid:key`." },
      ...WHISK_KEYS,
      insecure: { type: "bool", default: false, description: "Skip TLS certificate checks." },
      remote_invoker: {
        type: "bool", default: false,
        description: "Invoke the calls from one remote function instead of the client.",
      },
      chunksize: { type: "int", min: 1, default: 1, description: "Calls per function invocation." },
      ...priceKeys(0, 0, 1, "0, a self-hosted OpenWhisk"),
    },
  },
  ibm_cf: {
    description: "IBM Cloud Functions.",
    selectedBy: { key: "backend", value: "ibm_cf" },
    requireOneOf: [["api_key", "iam_api_key"]],
    keys: {
      endpoint: { type: "url", protocols: HTTP, required: true, description: "Regional API URL." },
      namespace: { type: "string", description: "Namespace name." },
      namespace_id: { type: "string", description: "Namespace GUID (IAM namespaces)." },
      api_key: { type: "string", secret: true, description: "Cloud Foundry namespace auth key." },
      iam_api_key: { type: "string", secret: true, description: "IAM API key." },
      region: { type: "string", description: "Region, e.g. `us-south`." },
      ...WHISK_KEYS,
      ...priceKeys(0.000017, 0, 100, "IBM Cloud Functions list price, USD 0.000017 per GB-s in 100 ms steps"),
    },
  },
  knative: {
    description: "Knative services.",
    selectedBy: { key: "backend", value: "knative" },
    keys: {
      url: { type: "url", protocols: HTTP, required: true, description: "Service URL." },
      concurrency: { type: "int", min: 1, default: 10, description: "Requests per container at once." },
      runtime_memory: {
        type: "int", unit: "MB", min: 128, default: 256,
        description: "Memory of each container.",
      },
      runtime_timeout: {
        type: "number", unit: "s", above: 0, max: MAX_TIMER_S, default: 600,
        description: "Time limit of each request (at most 2147483 s, what Node timers hold).",
      },
      max_workers: { type: "int", min: 1, default: 100, description: "Most requests running at once." },
      signing_key: SIGNING_KEY_SPEC,
      ...priceKeys(0, 0, 1, "0, a self-hosted Knative; set the provider's price"),
    },
  },
  docker: {
    description: "Containers of a local Docker engine, one long-lived container per worker slot.",
    selectedBy: { key: "backend", value: "docker" },
    keys: {
      runtime: {
        type: "string", defaultText: "tswren-runtime:<tswren version>",
        description: "Image the containers run (built by `tswren runtime build --backend docker`, or loaded with `docker load`).",
      },
      runtime_memory: {
        type: "int", unit: "MB", min: 64, default: 512,
        description: "Memory limit of each container (a call over it fails with TSWREN_OUT_OF_MEMORY).",
      },
      runtime_timeout: {
        type: "number", unit: "s", above: 0, default: 600,
        description: "Time limit of each call.",
      },
      max_workers: {
        type: "int", min: 1, default: () => availableParallelism(), defaultText: "number of CPUs",
        description: "Containers (worker slots) running calls at once.",
      },
      docker_host: {
        type: "string", default: () => process.env["DOCKER_HOST"] ?? "unix:///var/run/docker.sock",
        defaultText: "$DOCKER_HOST, else unix:///var/run/docker.sock",
        description: "Engine address passed to the docker CLI (`unix://PATH` or `tcp://HOST:PORT`).",
      },
      docker_cli: { type: "string", default: "docker", description: "The docker CLI program (name on PATH or a path)." },
      network: {
        type: "enum", values: ["host", "none"], default: "host",
        description: "Container network: `host` reaches loopback services (MinIO, RabbitMQ); `none` only for localhost storage.",
      },
      start_timeout: {
        type: "number", unit: "s", above: 0, default: 60,
        description: "Longest a container may take to start its runtime.",
      },
      ...priceKeys(0, 0, 1, "0, your own machine"),
    },
  },
  aws_lambda: {
    description: "AWS Lambda functions (credentials and region from the standard AWS chain).",
    selectedBy: { key: "backend", value: "aws_lambda" },
    keys: {
      region: { type: "string", defaultText: "the AWS chain: `$AWS_REGION`, the profile's region", description: "Region of the functions." },
      endpoint: { type: "url", protocols: HTTP, description: "Lambda (and IAM) endpoint URL; leave unset for AWS (tests, private clouds)." },
      profile: { type: "string", defaultText: "`$AWS_PROFILE`, else `default`", description: "Named profile of the shared AWS config and credentials files." },
      runtime_memory: { type: "int", unit: "MB", min: 128, max: 10240, default: 256, description: "Memory of each function invocation." },
      runtime_timeout: { type: "number", unit: "s", min: 1, max: 900, default: 180, description: "Time limit of each function invocation (Lambda's maximum is 900 s)." },
      architecture: { type: "enum", values: ["x86_64", "arm64"], default: "x86_64", description: "Instruction set of the functions." },
      ephemeral_storage: { type: "int", unit: "MB", min: 512, max: 10240, default: 512, description: "Size of each invocation's /tmp." },
      role_arn: { type: "string", defaultText: "the role `tswren-lambda-role` (`tswren runtime deploy --create-role` creates it)", description: "Execution role of the functions." },
      create_role: { type: "bool", default: false, description: "Create the role `tswren-lambda-role` when `role_arn` is unset and it is missing (`tswren runtime deploy --create-role`)." },
      function_prefix: { type: "string", pattern: { regex: /^[A-Za-z0-9_-]{1,20}$/, expected: "1-20 letters, digits, '-' or '_'" }, default: "tswren", description: "Start of the function names tswren deploys." },
      tags: { type: "string", default: "", description: "Extra tags of the functions, `key=value,key2=value2`." },
      vpc_subnet_ids: { type: "string", default: "", description: "VPC subnets of the functions, comma separated (passed to Lambda as is)." },
      vpc_security_group_ids: { type: "string", default: "", description: "VPC security groups of the functions, comma separated." },
      invoke_pool_threads: { type: "int", min: 1, default: 64, description: "Concurrent invoke requests sent by the client." },
      max_workers: { type: "int", min: 1, default: 1000, description: "Most function invocations running at once." },
      remote_invoker: { type: "bool", default: false, description: "Invoke the calls from one remote function instead of the client." },
      chunksize: { type: "int", min: 1, default: 1, description: "Calls per function invocation." },
      signing_key: SIGNING_KEY_SPEC,
      ...priceKeys(0.0000166667, 0.2, 1, "AWS Lambda x86 list price, USD 0.0000166667 per GB-s in 1 ms steps and USD 0.20 per million requests"),
    },
  },
  s3: {
    description: "Amazon S3 or an S3-compatible store.",
    selectedBy: { key: "storage", value: "s3" },
    keys: {
      endpoint: { type: "url", protocols: HTTP, description: "Endpoint URL; leave unset for AWS." },
      region: { type: "string", default: "us-east-1", description: "Region." },
      access_key_id: { type: "string", description: "Access key id." },
      secret_access_key: { type: "string", secret: true, description: "Secret access key." },
      session_token: { type: "string", secret: true, description: "Session token of temporary credentials." },
      force_path_style: {
        type: "bool", default: false,
        description: "Address buckets as `endpoint/bucket` instead of `bucket.endpoint`.",
      },
    },
  },
  ibm_cos: {
    description: "IBM Cloud Object Storage.",
    selectedBy: { key: "storage", value: "ibm_cos" },
    requireOneOf: [["endpoint", "region"]],
    keys: {
      endpoint: { type: "url", protocols: HTTP, description: "Public endpoint URL." },
      region: { type: "string", description: "Region, e.g. `us-south`; gives the endpoint." },
      api_key: { type: "string", secret: true, description: "IAM API key." },
      access_key_id: { type: "string", description: "HMAC access key id." },
      secret_access_key: { type: "string", secret: true, description: "HMAC secret access key." },
      private_endpoint: { type: "url", protocols: HTTP, description: "Private endpoint URL used by functions." },
    },
  },
  minio: {
    description: "A MinIO server.",
    selectedBy: { key: "storage", value: "minio" },
    keys: {
      endpoint: { type: "url", protocols: HTTP, required: true, description: "Server URL." },
      access_key_id: { type: "string", required: true, description: "Access key." },
      secret_access_key: { type: "string", secret: true, required: true, description: "Secret key." },
      region: { type: "string", default: "us-east-1", description: "Region." },
    },
  },
  rabbitmq: {
    description: "RabbitMQ for call status messages.",
    selectedBy: { key: "monitoring", value: "rabbitmq" },
    keys: {
      amqp_url: {
        type: "url", protocols: ["amqp", "amqps"], secret: true, required: true,
        description: "Broker URL `amqp://user:password@host:port/vhost`.",
      },
    },
  },
} as const satisfies Readonly<Record<string, SectionSpec>>;

/** The name of a config section. */
export type SectionName = keyof typeof CONFIG_SCHEMA;

/** The names of all sections, in schema order. */
export const SECTION_NAMES = Object.keys(CONFIG_SCHEMA) as SectionName[];

/** The spec of a section by name, or undefined for a name that is not a section. */
export function sectionSpec(name: string): SectionSpec | undefined {
  return Object.hasOwn(CONFIG_SCHEMA, name) ? CONFIG_SCHEMA[name as SectionName] : undefined;
}

/** The spec of a key, or undefined for a name that is not a key of the section. */
export function keySpec(section: SectionSpec, key: string): KeySpec | undefined {
  return Object.hasOwn(section.keys, key) ? section.keys[key] : undefined;
}
