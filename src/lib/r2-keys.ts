/**
 * Layout of the service's R2 bucket. Everything of an organization sits under
 * `orgs/<organizationId>/`, so one prefix holds (and purges) all of a tenant's objects.
 */
export const r2Keys = {
  organizationPrefix: (organizationId: string) => `orgs/${organizationId}/`,
  /** Payloads too large for a queue message, sealed at rest. */
  payload: (organizationId: string, deliveryId: string) =>
    `orgs/${organizationId}/payloads/${deliveryId}`,
  /** Envelopes served through download links, sealed at rest. */
  download: (organizationId: string, deliveryId: string, destinationId: string) =>
    `orgs/${organizationId}/downloads/${deliveryId}/${destinationId}`,
  /** Archived delivery records, one sealed file per organization and UTC day. */
  archive: (organizationId: string, day: string) =>
    `orgs/${organizationId}/archive/${day}.json.sealed`,
  /** Objects of R2 storage destinations; the tenant's path follows this prefix. */
  storageObject: (organizationId: string, key: string) => `orgs/${organizationId}/storage/${key}`,
}
