/**
 * The handler for a destination: one module per destination type (and per storage
 * provider). The queue consumer calls `handlerFor(destination)(job, destination, env)`.
 */
import type { LoadedDestination } from '../schemas/destination'
import { deliverDownload } from './download'
import { deliverEmail } from './email/deliver'
import { deliverR2, type R2Destination } from './storage-r2'
import { deliverS3, type S3Destination } from './storage-s3'
import type { DeliveryHandler } from './types'
import { deliverWebhook } from './webhook'

export function handlerFor(destination: LoadedDestination): DeliveryHandler {
  // Each handler narrows the destination it is given; the switch proves the pairing.
  switch (destination.type) {
    case 'webhook':
      return (job, _destination, env) => deliverWebhook(job, destination, env)
    case 'email':
      return (job, _destination, env) => deliverEmail(job, destination, env)
    case 'download':
      return (job, _destination, env) => deliverDownload(job, destination, env)
    case 'storage':
      if (destination.config.provider === 's3')
        return (job, _destination, env) => deliverS3(job, destination as S3Destination, env)
      return (job, _destination, env) => deliverR2(job, destination as R2Destination, env)
  }
}
