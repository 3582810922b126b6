// Output data types (docs/tat-api-reference.md, "Data types") as the API answers them. Times are
// `YYYY-MM-DDThh:mm:ssZ`.

import type { InvocationStatus, TaskStatus } from '../status.js';
import type { Tag } from './common.js';

export type CommandType = 'SHELL' | 'POWERSHELL' | 'BAT';
export const COMMAND_TYPES: readonly CommandType[] = ['SHELL', 'POWERSHELL', 'BAT'];

export interface DefaultParameterConfOut {
  ParameterName: string;
  ParameterValue: string;
  ParameterDescription: string;
}

export interface Command {
  CommandId: string;
  CommandName: string;
  Description: string;
  Content: string;
  CommandType: CommandType;
  WorkingDirectory: string;
  Timeout: number;
  CreatedTime: string;
  UpdatedTime: string;
  EnableParameter: boolean;
  DefaultParameters: string;
  DefaultParameterConfs: DefaultParameterConfOut[];
  Scenes: string[];
  FormattedDescription: string;
  CreatedBy: 'TAT' | 'USER';
  Tags: Tag[];
  Username: string;
  OutputCOSBucketUrl: string;
  OutputCOSKeyPrefix: string;
}

export interface InvocationTaskBasicInfo {
  InvocationTaskId: string;
  TaskStatus: TaskStatus;
  InstanceId: string;
}

export interface Invocation {
  InvocationId: string;
  CommandId: string;
  CommandName: string;
  InvocationStatus: InvocationStatus;
  InvocationTaskBasicInfoSet: InvocationTaskBasicInfo[];
  Description: string;
  StartTime: string;
  EndTime: string | null;
  CreatedTime: string;
  UpdatedTime: string;
  Parameters: string;
  DefaultParameters: string;
  InstanceKind: string;
  Username: string;
  InvocationSource: 'USER' | 'INVOKER';
  CommandContent: string;
  CommandType: CommandType;
  Timeout: number;
  WorkingDirectory: string;
  OutputCOSBucketUrl: string;
  OutputCOSKeyPrefix: string;
}

export interface TaskResult {
  ExitCode: number;
  Output: string;
  ExecStartTime: string | null;
  ExecEndTime: string | null;
  Dropped: number;
  OutputUrl: string;
  OutputUploadCOSErrorInfo: string;
}

export interface CommandDocument {
  Content: string;
  CommandType: CommandType;
  Timeout: number;
  WorkingDirectory: string;
  Username: string;
  OutputCOSBucketUrl: string;
  OutputCOSKeyPrefix: string;
}

export interface InvocationTask {
  InvocationId: string;
  InvocationTaskId: string;
  CommandId: string;
  TaskStatus: TaskStatus;
  InstanceId: string;
  TaskResult: TaskResult;
  StartTime: string | null;
  EndTime: string | null;
  CreatedTime: string;
  UpdatedTime: string;
  CommandDocument: CommandDocument;
  ErrorInfo: string;
  InvocationSource: 'USER' | 'INVOKER';
  CommandName: string;
}

export interface AutomationAgentInfo {
  InstanceId: string;
  Version: string;
  LastHeartbeatTime: string;
  AgentStatus: 'Online' | 'Offline';
  Environment: 'Linux' | 'Windows';
  SupportFeatures: string[];
}

export interface RegionInfo {
  Region: string;
  RegionName: string;
  RegionState: 'AVAILABLE' | 'UNAVAILABLE';
}

export interface RegisterCodeInfo {
  RegisterCodeId: string;
  Description: string;
  InstanceNamePrefix: string;
  RegisterLimit: number;
  ExpiredTime: string;
  IpAddressRange: string;
  Enabled: boolean;
  RegisteredCount: number;
  CreatedTime: string;
  UpdatedTime: string;
}

export interface RegisterInstanceInfo {
  RegisterCodeId: string;
  InstanceId: string;
  InstanceName: string;
  MachineId: string;
  SystemName: 'Linux' | 'Windows';
  HostName: string;
  LocalIp: string;
  PublicKey: string;
  Status: 'Online' | 'Offline';
  CreatedTime: string;
  UpdatedTime: string;
  Tags: Tag[];
}

export type QuotaResourceName = 'COMMAND' | 'REGISTER_CODE';
export const QUOTA_RESOURCE_NAMES: readonly QuotaResourceName[] = ['COMMAND', 'REGISTER_CODE'];

export interface GeneralResourceQuotaSet {
  ResourceName: QuotaResourceName;
  ResourceQuotaUsed: number;
  ResourceQuotaTotal: number;
}

export interface Scene {
  SceneId: string;
  SceneName: string;
  CreatedBy: 'TAT';
  CreatedTime: string;
  UpdatedTime: string;
}

export interface ScheduleSettingsOut {
  Policy: 'ONCE' | 'RECURRENCE';
  /** The crontab, '' for ONCE. */
  Recurrence: string;
  /** ONCE: when it runs; RECURRENCE: its next run. */
  InvokeTime: string;
}

export interface Invoker {
  InvokerId: string;
  Name: string;
  Type: 'SCHEDULE';
  CommandId: string;
  Username: string;
  Parameters: string;
  InstanceIds: string[];
  Enable: boolean;
  ScheduleSettings: ScheduleSettingsOut;
  CreatedTime: string;
  UpdatedTime: string;
  Tags: Tag[];
}

export interface InvokerRecord {
  InvokerId: string;
  InvokeTime: string;
  Reason: string;
  InvocationId: string;
  Result: InvocationStatus;
}
