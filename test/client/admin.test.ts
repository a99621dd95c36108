import { describe, expect, it } from 'vitest'
import { uniqueOrganizationId } from '../support/api'
import { ADMIN_TOKEN, serviceClient } from './harness'

describe('client: organizations and keys (admin token)', () => {
  it('Should create an organization, issue a working key, list and revoke it', async () => {
    const admin = serviceClient({ adminToken: ADMIN_TOKEN })
    const id = uniqueOrganizationId('hospital')
    const organization = await admin.createOrganization({ id, name: 'General Hospital A' })
    expect(organization).toEqual({
      id,
      name: 'General Hospital A',
      status: 'active',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    expect(await admin.getOrganization(id)).toEqual(organization)

    const issued = await admin.issueApiKey(id, { name: 'ehr integration' })
    expect(issued.key).toMatch(new RegExp(`^dsk_${id}_`))
    const tenant = serviceClient({ apiKey: issued.key })
    expect((await tenant.getSettings()).retry.maxAttempts).toBe(5)

    expect(await admin.listApiKeys(id)).toEqual([
      {
        id: issued.id,
        name: 'ehr integration',
        prefix: issued.prefix,
        createdAt: issued.createdAt,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: expect.any(String),
      },
    ])
    const revoked = await admin.revokeApiKey(id, issued.id)
    expect(revoked.revokedAt).toEqual(expect.any(String))
    await expect(tenant.getSettings()).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: 'The API key is revoked',
    })
  })

  it('Should disable and enable an organization, whose keys fail while it is disabled', async () => {
    const admin = serviceClient({ adminToken: ADMIN_TOKEN })
    const id = uniqueOrganizationId('clinic')
    await admin.createOrganization({ id, name: 'Specialty Clinic B' })
    const { key } = await admin.issueApiKey(id, { name: 'clinic' })
    const tenant = serviceClient({ apiKey: key })

    expect((await admin.disableOrganization(id)).status).toBe('disabled')
    await expect(tenant.getSettings()).rejects.toMatchObject({
      status: 403,
      code: 'organization_disabled',
      message: 'The organization is disabled',
    })
    expect(
      (await admin.listOrganizations({ status: 'disabled' })).organizations.map((o) => o.id),
    ).toContain(id)
    expect((await admin.enableOrganization(id)).status).toBe('active')
    expect((await tenant.getSettings()).retry.maxAttempts).toBe(5)
  })

  it('Should export an organization and delete it only when confirmed', async () => {
    const admin = serviceClient({ adminToken: ADMIN_TOKEN })
    const id = uniqueOrganizationId('closing')
    await admin.createOrganization({ id, name: 'Closing Clinic' })
    const exported = await admin.exportOrganization(id)
    expect(exported).toMatchObject({ organization: { id, name: 'Closing Clinic' } })

    expect(await admin.deleteOrganization(id, { confirm: true })).toEqual({ id, deleted: true })
    await expect(admin.getOrganization(id)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
      message: `Organization "${id}" does not exist`,
    })
  })

  it("Should read the organization's audit trail of changes made through the client", async () => {
    const admin = serviceClient({ adminToken: ADMIN_TOKEN })
    const id = uniqueOrganizationId('audited')
    await admin.createOrganization({ id, name: 'Audited Hospital' })
    const { key } = await admin.issueApiKey(id, { name: 'audited' })
    const tenant = serviceClient({ apiKey: key })
    const destination = await tenant.createDestination({
      label: 'Audited download',
      type: 'download',
      config: { download: {} },
    })
    const page = await tenant.getAuditLog({ resourceType: 'destination' })
    expect(page.entries).toEqual([
      expect.objectContaining({
        organizationId: id,
        action: 'destination.created',
        resourceType: 'destination',
        resourceId: destination.id,
        before: null,
        after: expect.objectContaining({ label: 'Audited download' }),
      }),
    ])
    expect(page.nextCursor).toBeNull()
  })
})
