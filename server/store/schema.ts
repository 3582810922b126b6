// Table types for Kysely: the one description of the store that queries are checked against.
// Times are integer milliseconds since the epoch; booleans are 0/1 (portable to PostgreSQL).

import type { Generated } from 'kysely';

export interface CommandsTable {
  id: string;
  account: string;
  region: string;
  name: string;
  description: string;
  content: string;
  command_type: string;
  working_directory: string;
  timeout: number;
  enable_parameter: number;
  /** `DefaultParameters` as given (JSON object text), '' when none. */
  default_parameters: string;
  /** `DefaultParameterConfs` as given (JSON array text). */
  default_parameter_confs: string;
  tags: string;
  username: string;
  cos_bucket_url: string;
  cos_key_prefix: string;
  /** 0 for the temporary command of a RunCommand without SaveCommand: not listed, not invocable. */
  saved: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface InstancesTable {
  id: string;
  account: string;
  region: string;
  kind: string;
  machine_id: string;
  name: string;
  created_at: number;
  agent_version: string;
  environment: string;
  last_seen_at: number;
  hostname: string;
  /** Managed (`rins-`) instances only, from here on (migration 0002); null for CVM rows. */
  register_code_id: string | null;
  /** PKCS#1 PEM public key the agent registered; it signs every call with the private half. */
  public_key: string | null;
  /**
   * The MachineId a managed agent registered with and must keep sending. (`machine_id`, unique,
   * holds the instance id for managed rows: one machine may be registered more than once.)
   */
  agent_machine_id: Generated<string>;
  local_ip: Generated<string>;
  updated_at: number | null;
  /** JSON array of {Key, Value} (migration 0007): managed instances only; `[]` for the others. */
  tags: Generated<string>;
}

export interface RegisterCodesTable {
  /** UUID form, no prefix (docs/tat-api-reference.md, "Ids"). */
  id: string;
  account: string;
  region: string;
  /** SHA-256 (hex) of RegisterCodeValue: the value itself is shown once, by CreateRegisterCode. */
  value_sha256: string;
  description: string;
  instance_name_prefix: string;
  register_limit: number;
  registered_count: number;
  /** `''`, an address or a CIDR block; only agents from there may register. */
  ip_address_range: string;
  /** 0 after DisableRegisterCodes. */
  enabled: number;
  /** null: never expires (EffectiveTime above 99999 hours). */
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

/** RandomKeys of signed agent requests, kept while their Timestamp is valid (replay guard). */
export interface AgentRandomKeysTable {
  random_key: string;
  instance_id: string;
  expires_at: number;
}

/** An invocation's status, end and update times are folded from its tasks when read. */
export interface InvocationsTable {
  id: string;
  account: string;
  region: string;
  command_id: string;
  command_name: string;
  description: string;
  parameters: string;
  default_parameters: string;
  instance_kind: string;
  username: string;
  source: string;
  command_content: string;
  command_type: string;
  timeout: number;
  working_directory: string;
  cos_bucket_url: string;
  cos_key_prefix: string;
  created_at: number;
}

export interface TasksTable {
  id: string;
  invocation_id: string;
  account: string;
  region: string;
  instance_id: string;
  command_id: string;
  /** Index of the instance in the call's InstanceIds: tasks are listed in that order. */
  position: number;
  status: string;
  /** The substituted script (Base64) for the agent; purged once the task is final. */
  script: string | null;
  created_at: number;
  updated_at: number;
  start_at: number | null;
  end_at: number | null;
  exec_start_at: number | null;
  exec_end_at: number | null;
  exit_code: number;
  error_info: string;
  dropped: number;
  final_log_index: number | null;
  output_url: string;
  cos_error: string;
  /** When an undelivered task becomes DELIVER_FAILED. */
  deliver_deadline: number;
  /** When a started task without a finish report becomes TASK_TIMEOUT. */
  run_deadline: number | null;
  /** Output bytes stored in task_output (at most `agents.outputBytesPerTask`). */
  output_bytes: Generated<number>;
}

export interface TaskOutputTable {
  task_id: string;
  idx: number;
  data: Buffer;
}

/**
 * Signed API requests seen within their signature window (replay guard): each action a signature
 * (TC3, or `v1:<SecretId>:<Signature>`) was used for, and the source address of its first such
 * use. Kept until `expires_at`.
 */
export interface ApiSignaturesTable {
  signature: string;
  action: string;
  address: string;
  expires_at: number;
}

/** Objects of the built-in object store: who owns each (quota), which task wrote it (retention). */
export interface CosObjectsTable {
  bucket: string;
  key: string;
  account: string;
  task_id: string;
  bytes: number;
  /** 'uploading' while its body is received (its bytes reserved), then 'stored'. */
  state: string;
  created_at: number;
}

/**
 * Invokers (CreateInvoker …): the truth about every schedule. Temporal holds a Schedule per
 * invoker, made to match this table by server/invokers/reconciler.ts.
 */
export interface InvokersTable {
  id: string;
  account: string;
  region: string;
  name: string;
  /** `SCHEDULE`, the only type. */
  type: string;
  command_id: string;
  /** '' runs as the command's Username (looked up at each fire). */
  username: string;
  /** `Parameters` as given (JSON object text), '' when none. */
  parameters: string;
  /** JSON array of instance ids. */
  instance_ids: string;
  enabled: number;
  /** `ONCE` | `RECURRENCE`. */
  policy: string;
  /** The crontab (RECURRENCE), '' for ONCE. */
  recurrence: string;
  /** When a ONCE invoker fires (epoch ms); null for RECURRENCE. */
  invoke_at: number | null;
  tags: string;
  created_at: number;
  updated_at: number;
  /** Bumped by every change; the Temporal Schedule carries the revision it was made from. */
  revision: number;
  /** Fires before this are not the current schedule's (create, enable, schedule change). */
  schedule_since: number;
  /** Every fire time up to here has a record or never gets one (missed-fire watermark). */
  checked_until: number;
}

/** One per fire of an invoker: the invocation it started, or why none was. */
export interface InvokerRecordsTable {
  invoker_id: string;
  account: string;
  region: string;
  /** The scheduled time of the fire (epoch ms); unique per invoker, so a fire is handled once. */
  invoke_at: number;
  /** '' when nothing was started. */
  invocation_id: string;
  /** '' follows the invocation's status (folded when read); else the result itself (FAILED). */
  result: string;
  reason: string;
  created_at: number;
}

export interface SchemaMeta {
  id: Generated<number>;
}

export interface Database {
  commands: CommandsTable;
  instances: InstancesTable;
  invocations: InvocationsTable;
  tasks: TasksTable;
  task_output: TaskOutputTable;
  register_codes: RegisterCodesTable;
  agent_random_keys: AgentRandomKeysTable;
  api_signatures: ApiSignaturesTable;
  cos_objects: CosObjectsTable;
  invokers: InvokersTable;
  invoker_records: InvokerRecordsTable;
}
