// DescribeScenes: the public scenes (server/public/scenes.ts), the same for every account and
// region, in catalogue order.

import {
  TatError,
  apiTime,
  checkFilterValues,
  checkListRequest,
  isId,
  type RequestOf,
  type Scene,
} from '../../tat/index.js';
import type { CallContext } from '../context.js';
import { PUBLIC_SCENES, PUBLIC_SINCE } from '../public/scenes.js';

const SCENE_FILTERS = {
  filters: ['scene-id', 'scene-name', 'created-by'],
  idsField: 'SceneIds',
  tooManyValuesCode: 'LimitExceeded.FilterValueExceeded',
} as const;

/** Longest scene name a filter may ask for (as for command names). */
const SCENE_NAME_MAX = 60;

export function checkSceneId(id: string): void {
  if (!isId('scene', id))
    throw new TatError('InvalidParameterValue.InvalidSceneId', `"${id}" is not a scene id (sc-xxxxxxxx).`);
}

function checkSceneName(name: string): void {
  if (name.trim() === '' || name.length > SCENE_NAME_MAX)
    throw new TatError(
      'InvalidParameterValue.InvalidSceneName',
      `Scene name "${name.slice(0, SCENE_NAME_MAX)}" must be 1 to ${SCENE_NAME_MAX} characters, not only spaces.`,
    );
}

export function describeScenes(
  _ctx: CallContext,
  req: RequestOf<'DescribeScenes'>,
): Promise<{ TotalCount: number; SceneSet: Scene[] }> {
  const page = checkListRequest(SCENE_FILTERS, req.SceneIds, req.Filters, req.Limit, req.Offset);
  req.SceneIds?.forEach(checkSceneId);
  for (const f of req.Filters ?? []) {
    if (f.Name === 'scene-id') f.Values.forEach(checkSceneId);
    if (f.Name === 'scene-name') f.Values.forEach(checkSceneName);
    if (f.Name === 'created-by') checkFilterValues(f, ['TAT']);
  }
  const ids = req.SceneIds ? new Set(req.SceneIds) : undefined;
  const matching = PUBLIC_SCENES.filter(
    (s) =>
      (!ids || ids.has(s.id)) &&
      (req.Filters ?? []).every((f) => {
        switch (f.Name) {
          case 'scene-id':
            return f.Values.includes(s.id);
          case 'scene-name':
            return f.Values.includes(s.name);
          default:
            return true; // created-by: every scene is TAT's
        }
      }),
  );
  const SceneSet = matching.slice(page.offset, page.offset + page.limit).map((s): Scene => ({
    SceneId: s.id,
    SceneName: s.name,
    CreatedBy: 'TAT',
    CreatedTime: apiTime(PUBLIC_SINCE),
    UpdatedTime: apiTime(PUBLIC_SINCE),
  }));
  return Promise.resolve({ TotalCount: matching.length, SceneSet });
}
