/**
 * Addressing of organization objects. A deployment serves one jurisdiction
 * (`ORGANIZATION_JURISDICTION`), so every organization's state stays in that region.
 */
import type { ServiceEnv } from '../env'
import type { OrganizationDurableObject } from './organization'

/** The RPC stub of an organization's object. Creating it does not wake the object. */
export function organizationStub(
  env: ServiceEnv,
  organizationId: string,
): DurableObjectStub<OrganizationDurableObject> {
  const namespace = env.ORGANIZATIONS as DurableObjectNamespace<OrganizationDurableObject>
  const jurisdiction = env.ORGANIZATION_JURISDICTION as DurableObjectJurisdiction | ''
  const scoped = jurisdiction ? namespace.jurisdiction(jurisdiction) : namespace
  return scoped.get(scoped.idFromName(organizationId))
}
