// GET /auth/reset — the page where a user with a reset token sets a new
// password. Everything it needs is served from here (no CDN, no third-party
// request), under a strict Content-Security-Policy.

import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentDisclaimer } from '../../disclaimer/disclaimer.js';
import { describeRules } from '../../passwords/policy.js';
import { describeAgeRule } from '../../passwords/password-age.js';
import type { Services } from '../../services.js';

export const RESET_PAGE_PATH = '/auth/reset';

const ASSETS = new URL('../../../web/reset/', import.meta.url);

export const PAGE_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** The link a user opens to set a new password with `token`. */
export function resetPageUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${RESET_PAGE_PATH}?token=${encodeURIComponent(token)}`;
}

/** Text made inert in HTML: what it says is shown, never interpreted as markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * The page with the disclaimer, when one is set (an empty one shows an empty
 * box, as PE's login page does), as escaped text: an administrator's text
 * never becomes markup or script on a page that takes passwords.
 */
function withDisclaimer(html: string, disclaimer: string | undefined): string {
  const section = disclaimer === undefined ? '' : `<section id="disclaimer" class="disclaimer" aria-label="Disclaimer">${escapeHtml(disclaimer)}</section>`;
  return html.replace('{{DISCLAIMER}}', () => section);
}

/** The "Continue to log in" link shown after a successful reset, when reset-page-continue-url is set. */
function continueLink(url: string | undefined): string {
  return url === undefined ? '' : `<p class="continue"><a id="continue" href="${escapeHtml(url)}">Continue to log in</a></p>`;
}

/** The age rule under the password field, when passwords age. */
function ageRuleNote(config: Services['config']): string {
  const rule = describeAgeRule(config);
  return rule === '' ? '' : `<p id="age-rule" class="help">${escapeHtml(rule)}</p>`;
}

export function resetPageRoutes(services: Services): FastifyPluginAsyncTypebox {
  const html = readFileSync(new URL('index.html', ASSETS), 'utf8')
    .replace('{{POLICY}}', describeRules(services.config))
    .replace('{{AGE_RULE}}', () => ageRuleNote(services.config))
    .replace('{{CONTINUE}}', () => continueLink(services.config.resetPageContinueUrl));
  const script = readFileSync(new URL('app.js', ASSETS), 'utf8');
  const style = readFileSync(new URL('style.css', ASSETS), 'utf8');

  return async (app) => {
    const page = { schema: { summary: 'The reset page: set a new password with a reset token', hide: true } };
    // Read on every request: the disclaimer is in the database, so each instance shows the one set last.
    app.get(RESET_PAGE_PATH, page, async (_request, reply) => {
      const disclaimer = await currentDisclaimer(services.store.db);
      // no-store: the URL may carry the token (and the disclaimer may change).
      return reply.headers(PAGE_SECURITY_HEADERS).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(withDisclaimer(html, disclaimer));
    });
    app.get(`${RESET_PAGE_PATH}/app.js`, page, async (_request, reply) =>
      reply.headers(PAGE_SECURITY_HEADERS).header('cache-control', 'public, max-age=300').type('text/javascript; charset=utf-8').send(script),
    );
    app.get(`${RESET_PAGE_PATH}/style.css`, page, async (_request, reply) =>
      reply.headers(PAGE_SECURITY_HEADERS).header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(style),
    );
  };
}
