// Every TAT action and the handler that serves it.

import type { ActionName, RequestOf } from '../../tat/index.js';
import type { CallContext } from '../context.js';
import { describeAutomationAgentStatus } from '../resources/agents.js';
import {
  createCommand,
  deleteCommand,
  deleteCommands,
  describeCommands,
  modifyCommand,
  previewReplacedCommandContent,
} from '../resources/commands.js';
import { describeInvocations, describeInvocationTasks } from '../resources/invocation-queries.js';
import { cancelInvocation, invokeCommand, runCommand } from '../resources/invocations.js';
import {
  createInvoker,
  deleteInvoker,
  describeInvokerRecords,
  describeInvokers,
  disableInvoker,
  enableInvoker,
  modifyInvoker,
} from '../resources/invokers.js';
import { describeQuotas } from '../resources/quotas.js';
import { describeRegions } from '../resources/regions.js';
import { describeScenes } from '../resources/scenes.js';
import {
  deleteRegisterInstance,
  describeRegisterInstances,
  modifyRegisterInstance,
} from '../resources/managed-instances.js';
import {
  createRegisterCode,
  deleteRegisterCodes,
  describeRegisterCodes,
  disableRegisterCodes,
} from '../resources/register-codes.js';

export type Handler<A extends ActionName> = (ctx: CallContext, req: RequestOf<A>) => Promise<object>;

export const HANDLERS: { [A in ActionName]: Handler<A> } = {
  CreateCommand: createCommand,
  DescribeCommands: describeCommands,
  ModifyCommand: modifyCommand,
  DeleteCommand: deleteCommand,
  DeleteCommands: deleteCommands,
  PreviewReplacedCommandContent: previewReplacedCommandContent,
  RunCommand: runCommand,
  InvokeCommand: invokeCommand,
  CancelInvocation: cancelInvocation,
  DescribeInvocations: describeInvocations,
  DescribeInvocationTasks: describeInvocationTasks,
  DescribeAutomationAgentStatus: describeAutomationAgentStatus,
  CreateInvoker: createInvoker,
  DescribeInvokers: describeInvokers,
  ModifyInvoker: modifyInvoker,
  EnableInvoker: enableInvoker,
  DisableInvoker: disableInvoker,
  DeleteInvoker: deleteInvoker,
  DescribeInvokerRecords: describeInvokerRecords,
  CreateRegisterCode: createRegisterCode,
  DescribeRegisterCodes: describeRegisterCodes,
  DisableRegisterCodes: disableRegisterCodes,
  DeleteRegisterCodes: deleteRegisterCodes,
  DescribeRegisterInstances: describeRegisterInstances,
  ModifyRegisterInstance: modifyRegisterInstance,
  DeleteRegisterInstance: deleteRegisterInstance,
  DescribeScenes: describeScenes,
  DescribeRegions: describeRegions,
  DescribeQuotas: describeQuotas,
};
