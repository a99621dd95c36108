/**
 * The ceiling of the benchmark: a Worker that answers every request 202 without reading
 * the body or touching any binding, run by `wrangler dev` in the same way as the service.
 * Whatever the service loses against it is the service's own work.
 */
export default {
  fetch: (): Response => new Response('{"status":"accepted"}', { status: 202 }),
}
