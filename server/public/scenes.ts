// Public scenes (DescribeScenes): the categories of the public commands. Defined here, not stored:
// every account sees them in every region, and nobody can change them. Ids are fixed for good, as
// clients may keep them.

export interface PublicScene {
  id: string;
  name: string;
}

/** When the catalogue was published: CreatedTime and UpdatedTime of every scene and command. */
export const PUBLIC_SINCE = Date.UTC(2026, 10, 29);

export const SCENES = {
  inspection: { id: 'sc-5zb6hc10', name: 'System inspection' },
  packages: { id: 'sc-8joaj7al', name: 'Package management' },
  services: { id: 'sc-rtfvg8lj', name: 'Service management' },
  logs: { id: 'sc-4y7nzg9q', name: 'Log management' },
  network: { id: 'sc-j1mxruvd', name: 'Network checks' },
} as const satisfies Record<string, PublicScene>;

/** In the order DescribeScenes lists them. */
export const PUBLIC_SCENES: readonly PublicScene[] = Object.values(SCENES);
