// The local activity that builds a run's definition when the run starts: the runbook by the run's
// workflow type from the worker's registry (the built-in runbooks and the files this worker
// loaded), its parameters checked against its schema, its definition built and checked. The result
// goes into the run's history, so the run keeps it whatever the runbook's file says later; a
// refusal fails the run at once with the reason (non-retryable).

import { ApplicationFailure } from '@temporalio/common';
import { buildChecked, RunbookRefusal } from '../workflows/engine/define.js';
import type { DefinitionActivities } from '../workflows/engine/definition.js';
import type { RunbookRegistry } from '../workflows/registry.js';

export function definitionActivities(registry: RunbookRegistry): DefinitionActivities {
  return {
    buildDefinition({ runbook, params }) {
      try {
        const entry = registry.get(runbook);
        if (!entry)
          throw new RunbookRefusal(
            `unknown runbook "${runbook}": this worker runs ${registry.names().join(', ')}; a runbook ` +
              'of your own needs its file loaded by the worker (tatflow worker --runbooks <file>)',
            'UnknownRunbook',
          );
        return Promise.resolve(buildChecked(entry.spec, params));
      } catch (e) {
        if (e instanceof RunbookRefusal) throw ApplicationFailure.nonRetryable(e.message, e.type);
        throw e;
      }
    },
  };
}
