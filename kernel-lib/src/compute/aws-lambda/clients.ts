/**
 * The Lambda and IAM clients of the backend: credentials and region from the standard AWS chain
 * (environment, shared config and credentials files, the named profile of `aws_lambda.profile`
 * or `$AWS_PROFILE`, container and instance roles), through the SDK's default provider.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { LambdaSettings } from "./settings.js";

/** The clients of one backend. */
export interface LambdaClients {
  lambda: LambdaClient;
  iam: IAMClient;
  /** Region the clients use (the section's, else the chain's). */
  region(): Promise<string>;
  /** `region <r>` and the endpoint when set, for messages. */
  where(): Promise<string>;
  close(): void;
}

/**
 * Create the clients (no request is made yet).
 * @param settings - region, endpoint and profile
 */
export function lambdaClients(settings: Pick<LambdaSettings, "region" | "endpoint" | "profile" | "invokePoolThreads">): LambdaClients {
  // One keep-alive socket per invoke in flight (the SDK's default agent caps at 50), and the
  // middleware stack resolved once per command class instead of on every request.
  const agent = { keepAlive: true, maxSockets: Math.max(50, settings.invokePoolThreads + 4) };
  const common = {
    ...(settings.region !== undefined ? { region: settings.region } : {}),
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    ...(settings.profile !== undefined ? { profile: settings.profile } : {}),
    maxAttempts: 1, // retries are the backend's own (429 back-off, bounded network retries)
    cacheMiddleware: true,
    requestHandler: { httpAgent: agent, httpsAgent: agent },
  };
  const lambda = new LambdaClient(common);
  const iam = new IAMClient(common);
  const region = async (): Promise<string> => {
    try {
      return await lambda.config.region();
    } catch {
      return "(no region: set aws_lambda.region or AWS_REGION)";
    }
  };
  return {
    lambda,
    iam,
    region,
    async where() {
      return `region ${await region()}${settings.endpoint !== undefined ? `, endpoint ${settings.endpoint}` : ""}`;
    },
    close() {
      lambda.destroy();
      iam.destroy();
    },
  };
}
