/** The tswren version of this build, shared by the client and the runtime it ships. */
export const TSWREN_VERSION = "0.1.0";
