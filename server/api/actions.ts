// Every TAT action and the handler that serves it. Actions of later milestones answer
// UnsupportedOperation with a sentence saying so, rather than pretending.

import { TatError, type ActionName, type RequestOf } from '../../tat/index.js';
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
import {
  cancelInvocation,
  describeInvocations,
  describeInvocationTasks,
  invokeCommand,
  runCommand,
} from '../resources/invocations.js';
import { describeRegions } from '../resources/regions.js';

export type Handler<A extends ActionName> = (ctx: CallContext, req: RequestOf<A>) => Promise<object>;

const notYet =
  (what: string): Handler<ActionName> =>
  () =>
    Promise.reject(
      new TatError('UnsupportedOperation', `${what} are not available in this version of tatd yet.`),
    );

const invokers = notYet('Invokers (scheduled execution)');
const registration = notYet('Registration codes and managed instances');

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
  CreateInvoker: invokers,
  DescribeInvokers: invokers,
  ModifyInvoker: invokers,
  EnableInvoker: invokers,
  DisableInvoker: invokers,
  DeleteInvoker: invokers,
  DescribeInvokerRecords: invokers,
  CreateRegisterCode: registration,
  DescribeRegisterCodes: registration,
  DisableRegisterCodes: registration,
  DeleteRegisterCodes: registration,
  DescribeRegisterInstances: registration,
  ModifyRegisterInstance: registration,
  DeleteRegisterInstance: registration,
  DescribeScenes: notYet('Public scenes'),
  DescribeRegions: describeRegions,
  DescribeQuotas: notYet('Quota reports (DescribeQuotas)'),
};
