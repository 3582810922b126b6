// The agent protocol of the reference agent tat_agent (docs/agent-protocol-reference.md, "HTTP
// calls"): the HTTP "invoke" actions as zod schemas, shared by tatd's gateway and our agent. Bodies
// are `{"Action": ..., <fields>}`; answers `{"Response": {"RequestId", ...}}`.

import { z } from 'zod';
import { Tag } from './schemas/common.js';
import { AGENT_RESULTS } from './status.js';

export const AGENT_ACTIONS = [
  'DescribeTasks',
  'ReportTaskStart',
  'UploadTaskLog',
  'ReportTaskFinish',
  'CheckUpdate',
  'ReportAgentLog',
  'GetCosCredential',
  'RegisterInstance',
  'ValidateInstance',
] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

const u32 = z.number().int().nonnegative();

export const AgentRequests = {
  DescribeTasks: z.object({}),
  ReportTaskStart: z.object({ InvocationTaskId: z.string().min(1), TimeStamp: z.number().int() }),
  UploadTaskLog: z.object({
    InvocationTaskId: z.string().min(1),
    Index: u32,
    Output: z.string(),
    Dropped: z.number().int().nonnegative(),
  }),
  ReportTaskFinish: z.object({
    InvocationTaskId: z.string().min(1),
    TimeStamp: z.number().int(),
    Result: z.enum(AGENT_RESULTS),
    ErrorInfo: z.string().default(''),
    ExitCode: z.number().int(),
    FinalLogIndex: u32.nullable().default(null),
    OutputUrl: z.string().default(''),
    OutputUploadCOSErrorInfo: z.string().default(''),
  }),
  CheckUpdate: z.object({
    KernelName: z.string().optional(),
    KernelRelease: z.string().optional(),
    KernelVersion: z.string().optional(),
    Machine: z.string().optional(),
    Version: z.string().optional(),
  }),
  ReportAgentLog: z.object({
    AgentVersion: z.string().optional(),
    LogLevel: z.string(),
    LogInfo: z.string(),
  }),
  GetCosCredential: z.object({ InvocationTaskId: z.string() }),
  // `tat_agent register` (docs/agent-protocol-reference.md, "Registration and signed calls"): sent
  // unsigned, before the machine has an id.
  RegisterInstance: z.object({
    MachineId: z.string().min(1).max(128),
    ActiveCode: z.string().min(1).max(64),
    ActiveValue: z.string().min(1).max(256),
    PublicKey: z.string().min(1).max(4096),
    Hostname: z.string().max(255).default(''),
    LocalIp: z.string().max(64).default(''),
    SystemName: z.string().max(32).default('Linux'),
    /** tatd extension (the reference agent sends none): the managed instance's tags. */
    Tags: z.array(Tag).optional(),
  }),
  ValidateInstance: z.object({
    SysName: z.string().max(32).optional(),
    Hostname: z.string().max(255).optional(),
    LocalIp: z.string().max(64).optional(),
  }),
} as const satisfies Record<AgentAction, z.ZodType>;

export type AgentRequest<A extends AgentAction> = z.infer<(typeof AgentRequests)[A]>;

/** A task as DescribeTasks hands it out (field names as the agent's deserializer reads them). */
export const AgentTaskSchema = z.object({
  InvocationTaskId: z.string(),
  TimeOut: z.number().int(),
  Command: z.string(),
  CommandType: z.string(),
  Username: z.string(),
  WorkingDirectory: z.string(),
  OutputCOSBucketUrl: z.string().default(''),
  OutputCOSKeyPrefix: z.string().default(''),
});
export type AgentTaskMessage = z.infer<typeof AgentTaskSchema>;

export const DescribeTasksResponse = z.object({
  InvocationNormalTaskSet: z.array(AgentTaskSchema),
  InvocationCancelTaskSet: z.array(z.object({ InvocationTaskId: z.string() })),
});

export const RegisterInstanceResponse = z.object({ InstanceId: z.string() });

/**
 * The headers of a registered (`rins-`) agent: `Signature` is Base64 of RSASSA-PKCS1-v1_5 with
 * SHA-1 over `MachineId + InstanceId + RandomKey + Timestamp` (docs/agent-protocol-reference.md, "Registration and signed calls").
 */
export const SIGNED_HEADERS = ['MachineId', 'InstanceId', 'RandomKey', 'Timestamp', 'Signature'] as const;

export function signedText(
  machineId: string,
  instanceId: string,
  randomKey: string,
  timestamp: string,
): string {
  return machineId + instanceId + randomKey + timestamp;
}

export const AgentResponseEnvelope = z.object({
  Response: z
    .object({
      RequestId: z.string(),
      Error: z.object({ Code: z.string(), Message: z.string() }).optional(),
    })
    .loose(),
});

/** WebSocket text frames from the server (docs/agent-protocol-reference.md, "Connection"). */
export const WsMessage = z.object({
  Type: z.string(),
  Seq: z.number().optional(),
  Data: z.unknown().optional(),
});
