// Limits of the TAT API (docs/tat-api-reference.md, "Limits"). One place, so the server and the
// engine agree.

export const LIMITS = {
  /** Base64 text of a script. */
  contentBase64Bytes: 64 * 1024,
  timeoutMin: 1,
  timeoutMax: 86400,
  timeoutDefault: 60,
  commandNameBytes: 60,
  commandDescriptionChars: 120,
  cosKeyPrefixChars: 60,
  tagsPerResource: 10,
  instancesPerRun: 200,
  instancesPerCancel: 100,
  /** CreateInvoker / ModifyInvoker InstanceIds. */
  instancesPerInvoker: 100,
  invokerNameChars: 120,
  idsPerDescribe: 100,
  filtersPerRequest: 10,
  valuesPerFilter: 5,
  parameters: 20,
  parameterNameChars: 64,
  pageSizeDefault: 20,
  pageSizeMax: 100,
  /** Raw output bytes kept per task; the rest is counted in `Dropped`. */
  outputBytes: 24 * 1024,
  /** Largest raw chunk the agent uploads in one `UploadTaskLog`. */
  outputChunkBytes: 4 * 1024,
  usernameChars: 256,
  workingDirectoryChars: 512,
  /** Registration codes and managed instances (CreateRegisterCode, ModifyRegisterInstance). */
  registerCodeDescriptionChars: 128,
  instanceNamePrefixChars: 32,
  registerLimitMin: 1,
  registerLimitMax: 10000,
  registerLimitDefault: 10,
  effectiveTimeMinHours: 1,
  effectiveTimeDefaultHours: 4,
  /** An EffectiveTime above this many hours means the code never expires. */
  effectiveTimeNeverAboveHours: 99999,
  registerCodeIdsPerDelete: 99,
  managedInstanceNameChars: 60,
} as const;
