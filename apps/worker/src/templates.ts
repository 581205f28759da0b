import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emailTemplateNames } from '@errand/contract';
import Handlebars from 'handlebars';
import { PermanentError } from './processor.ts';

export const TEMPLATE_DIR = join(import.meta.dirname, '..', 'templates');

type Compiled = { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate };

/**
 * The email templates of the contract, compiled once at start from `<name>.html.hbs` and
 * `<name>.text.hbs`. Strict mode: a variable the data lacks is an error, not an empty string.
 */
export function loadTemplates(dir = TEMPLATE_DIR) {
  // Text parts are not HTML: escaping would turn "?t=abc" into "?t&#x3D;abc" in a plain link.
  const compile = (file: string, noEscape: boolean) =>
    Handlebars.compile(readFileSync(join(dir, file), 'utf8'), { strict: true, noEscape });
  const compiled = new Map<string, Compiled>(
    emailTemplateNames.map((name) => [
      name,
      { html: compile(`${name}.html.hbs`, false), text: compile(`${name}.text.hbs`, true) },
    ]),
  );

  return function render(
    name: string,
    data: Record<string, unknown>,
  ): { html: string; text: string } {
    const template = compiled.get(name);
    if (!template) throw new PermanentError(`unknown email template "${name}"`);
    try {
      return { html: template.html(data), text: template.text(data) };
    } catch (error) {
      throw new PermanentError(`template "${name}" cannot render: ${(error as Error).message}`);
    }
  };
}

export type RenderTemplate = ReturnType<typeof loadTemplates>;
