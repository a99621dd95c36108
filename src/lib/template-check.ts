/**
 * Limits on e-mail templates, checked when a destination is saved. Sections nested in
 * sections multiply: four levels over a 70-item list rendered a 24-million-character mail
 * and stalled every tenant sharing the consumer. One level keeps rendering proportional
 * to the template times the payload.
 */
import Mustache from 'mustache'

const MAX_SECTION_DEPTH = 1

type Token = [string, string, number, number, Token[]?]

function sectionDepth(tokens: readonly Token[]): number {
  let deepest = 0
  for (const token of tokens) {
    if ((token[0] === '#' || token[0] === '^') && token[4]) {
      deepest = Math.max(deepest, 1 + sectionDepth(token[4]))
    }
  }
  return deepest
}

/** Why a template is refused, or null when it is fine. */
export function templateProblem(template: string): string | null {
  let tokens: Token[]
  try {
    tokens = Mustache.parse(template) as unknown as Token[]
  } catch (error) {
    return `is not a valid template: ${(error as Error).message}`
  }
  if (sectionDepth(tokens) > MAX_SECTION_DEPTH)
    return 'must not nest sections ({{#…}} or {{^…}}) inside one another'
  return null
}
