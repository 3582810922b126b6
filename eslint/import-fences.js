// A local ESLint rule that keeps the imports flowing one way (docs/architecture.md, "Import
// direction"): each top-level folder lists the top-level folders it must not import from, and the
// folders whose code runs in Temporal's workflow sandbox may not import Node built-ins. Imports
// are resolved against the importing file, so `../agent/x.js` from `server/gateway/` is
// `server/agent/x.js`, not the agent.

import { isBuiltin } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

/** Folder → folders it must not import from. */
export const FENCES = {
  tat: ['server', 'agent', 'client', 'activities', 'workflows', 'worker', 'bench', 'test', 'testkit'],
  server: ['agent', 'client', 'activities', 'workflows', 'worker'],
  agent: ['server', 'client', 'activities', 'workflows', 'worker'],
  activities: ['workflows', 'worker', 'client', 'server', 'agent'],
  workflows: ['worker', 'client', 'server', 'agent'],
  worker: ['client'],
  bench: ['test'],
  testkit: ['test'],
};

/** Folders of workflow code: deterministic, run in the workflow sandbox, no Node built-ins. */
export const WORKFLOW_CODE = ['workflows'];

/** @type {import('eslint').Rule.RuleModule} */
export const importFences = {
  meta: {
    type: 'problem',
    docs: {
      description: 'imports flow one way between top-level folders; workflow code imports no Node built-ins',
    },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      fence:
        '{{from}}/ must not import from {{to}}/ ({{source}}): imports flow one way, see docs/architecture.md',
      builtin:
        'workflow code must not import the Node built-in "{{source}}": it runs in the workflow sandbox',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = relative(root, context.filename);
    const from = file.split(sep)[0];
    const forbidden = FENCES[from] ?? [];
    const workflowCode = WORKFLOW_CODE.includes(from);
    function check(node, source) {
      if (typeof source !== 'string') return;
      if (workflowCode && isBuiltin(source)) {
        context.report({ node, messageId: 'builtin', data: { source } });
        return;
      }
      if (!source.startsWith('.')) return;
      const to = relative(root, resolve(dirname(context.filename), source)).split(sep)[0];
      if (forbidden.includes(to)) context.report({ node, messageId: 'fence', data: { from, to, source } });
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default { rules: { 'import-fences': importFences } };
