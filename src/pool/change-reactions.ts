// What a tenant change (from this instance, another one, the CLI or plain SQL; see the change feed)
// does to this instance: the one place that decides it.
import type { TenantDirectory } from '../tenants/directory.js';
import type { TenantChange } from '../tenants/change-listener.js';
import type { PoolRegistry } from './registry.js';

export function reactToTenantChange(directory: TenantDirectory, registry: PoolRegistry): (change: TenantChange) => void {
  return ({ tenantId, kind, version }) => {
    // Before the eviction: the entry read next must be at least this new.
    if (version !== undefined) directory.notePlacementVersion(tenantId, version);
    switch (kind) {
      // Only the cached entry is stale: a new tenant may be cached as unknown, limits may have changed.
      case 'created':
      case 'settings':
        directory.invalidate(tenantId);
        return;
      // A new password, a suspension or a deletion must end the tenant's logins; a new placement must
      // end its connections to where it was.
      case 'credentials':
      case 'status':
      case 'placement':
      case 'deleted':
        void registry.evict(tenantId);
        return;
    }
  };
}
