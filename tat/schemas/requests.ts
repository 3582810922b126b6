import { z } from 'zod';
import { DefaultParameterConf, Filter, Paging, Tag, uint } from './common.js';

// Request shapes of every TAT action (docs/tat-api-reference.md, "Actions"). Unknown fields are
// ignored, as newer SDKs may send fields this server does not know yet.

const commandFields = {
  CommandName: z.string().optional(),
  Description: z.string().optional(),
  CommandType: z.string().optional(),
  WorkingDirectory: z.string().optional(),
  Timeout: uint().optional(),
  EnableParameter: z.boolean().optional(),
  DefaultParameters: z.string().optional(),
  DefaultParameterConfs: z.array(DefaultParameterConf).optional(),
  Tags: z.array(Tag).optional(),
  Username: z.string().optional(),
  OutputCOSBucketUrl: z.string().optional(),
  OutputCOSKeyPrefix: z.string().optional(),
};

const listRequest = <K extends string>(idsField: K) =>
  z.object({ [idsField]: z.array(z.string()).optional(), Filters: z.array(Filter).optional(), ...Paging } as {
    [P in K]: z.ZodOptional<z.ZodArray<z.ZodString>>;
  } & { Filters: z.ZodOptional<z.ZodArray<typeof Filter>> } & typeof Paging);

const ScheduleSettings = z.object({
  Policy: z.string(),
  Recurrence: z.string().optional(),
  InvokeTime: z.string().optional(),
});

export const REQUESTS = {
  CreateCommand: z.object({ ...commandFields, CommandName: z.string(), Content: z.string() }),
  DescribeCommands: listRequest('CommandIds'),
  ModifyCommand: z.object({
    ...commandFields,
    CommandId: z.string(),
    Content: z.string().optional(),
  }),
  DeleteCommand: z.object({ CommandId: z.string() }),
  DeleteCommands: z.object({ CommandIds: z.array(z.string()) }),
  PreviewReplacedCommandContent: z.object({
    Parameters: z.string().optional(),
    CommandId: z.string().optional(),
    Content: z.string().optional(),
  }),
  RunCommand: z.object({
    ...commandFields,
    Content: z.string(),
    InstanceIds: z.array(z.string()),
    SaveCommand: z.boolean().optional(),
    Parameters: z.string().optional(),
  }),
  InvokeCommand: z.object({
    CommandId: z.string(),
    InstanceIds: z.array(z.string()),
    Parameters: z.string().optional(),
    Username: z.string().optional(),
    WorkingDirectory: z.string().optional(),
    Timeout: uint().optional(),
    OutputCOSBucketUrl: z.string().optional(),
    OutputCOSKeyPrefix: z.string().optional(),
  }),
  CancelInvocation: z.object({ InvocationId: z.string(), InstanceIds: z.array(z.string()).optional() }),
  DescribeInvocations: listRequest('InvocationIds'),
  DescribeInvocationTasks: z.object({
    InvocationTaskIds: z.array(z.string()).optional(),
    Filters: z.array(Filter).optional(),
    HideOutput: z.boolean().optional(),
    ...Paging,
  }),
  DescribeAutomationAgentStatus: listRequest('InstanceIds'),
  CreateInvoker: z.object({
    Name: z.string(),
    Type: z.string(),
    CommandId: z.string(),
    InstanceIds: z.array(z.string()),
    Username: z.string().optional(),
    Parameters: z.string().optional(),
    ScheduleSettings: ScheduleSettings.optional(),
    Tags: z.array(Tag).optional(),
  }),
  DescribeInvokers: listRequest('InvokerIds'),
  ModifyInvoker: z.object({
    InvokerId: z.string(),
    Name: z.string().optional(),
    Type: z.string().optional(),
    CommandId: z.string().optional(),
    Username: z.string().optional(),
    Parameters: z.string().optional(),
    InstanceIds: z.array(z.string()).optional(),
    ScheduleSettings: ScheduleSettings.optional(),
  }),
  EnableInvoker: z.object({ InvokerId: z.string() }),
  DisableInvoker: z.object({ InvokerId: z.string() }),
  DeleteInvoker: z.object({ InvokerId: z.string() }),
  DescribeInvokerRecords: z.object({ InvokerIds: z.array(z.string()).optional(), ...Paging }),
  CreateRegisterCode: z.object({
    Description: z.string().optional(),
    InstanceNamePrefix: z.string().optional(),
    RegisterLimit: z.number().int().optional(),
    EffectiveTime: z.number().int().optional(),
    IpAddressRange: z.string().optional(),
  }),
  DescribeRegisterCodes: z.object({ RegisterCodeIds: z.array(z.string()).optional(), ...Paging }),
  DisableRegisterCodes: z.object({ RegisterCodeIds: z.array(z.string()) }),
  DeleteRegisterCodes: z.object({ RegisterCodeIds: z.array(z.string()) }),
  DescribeRegisterInstances: listRequest('InstanceIds'),
  // Tags: a tatd extension (TAT's ModifyRegisterInstance takes the name only); replaces the tags.
  ModifyRegisterInstance: z.object({
    InstanceId: z.string(),
    InstanceName: z.string(),
    Tags: z.array(Tag).optional(),
  }),
  DeleteRegisterInstance: z.object({ InstanceId: z.string() }),
  DescribeScenes: listRequest('SceneIds'),
  DescribeRegions: z.object({}),
  DescribeQuotas: z.object({ ResourceNames: z.array(z.string()) }),
} as const;

export type RequestOf<A extends keyof typeof REQUESTS> = z.infer<(typeof REQUESTS)[A]>;
