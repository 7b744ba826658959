/**
 * The Triggerfish web console: plain TypeScript on the DOM (no framework: a dozen screens of forms and tables),
 * bundled by console/build.ts. Pages are hash routes (#/t/<id>...), so only ids ever reach a URL; the admin token
 * lives in sessionStorage only. Every value from the API goes in through textContent (h() below), never as HTML.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN_KEY = 'triggerfish.adminToken';
const IN_FLIGHT = ['queued', 'deploying'];
const STATUSES = [
  'queued',
  'deploying',
  'succeeded',
  'failed',
  'untriggered',
  'unauthorized',
  'rejected',
  'duplicate',
  'superseded',
  'cancelled',
];
/** finished deploys: what the API lets redeliver */
const REDELIVERABLE = ['succeeded', 'failed', 'superseded', 'cancelled'];
/** auto-refresh of a log page while entries are queued or deploying */
const REFRESH_MS = 2000;

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let refreshTimer: number | undefined;

// ---- DOM helpers ------------------------------------------------------------------------------------------

type Child = Node | string | number | false | null | undefined;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, unknown> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'value') (el as HTMLInputElement).value = String(v);
    else if (k === 'checked') (el as HTMLInputElement).checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children)
    if (c !== undefined && c !== null && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

function show(title: string, ...children: Child[]) {
  document.title = `${title} · Triggerfish`;
  main.replaceChildren(
    h('h1', {}, title),
    ...children.filter(Boolean).map((c) => (typeof c === 'string' ? h('p', {}, c) : (c as Node))),
  );
  main.focus();
}

function toast(text: string) {
  const el = document.getElementById('status')!;
  el.textContent = text;
  el.classList.add('show');
  setTimeout(() => el.classList.remove('show'), 2500);
}

const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '–');
const badge = (s?: string) => h('span', { class: `status-${s ?? 'none'}` }, s ?? '–');
/** a JSON body pretty-printed, anything else as received */
const jsonOrText = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};
const pretty = (v: unknown) => h('pre', {}, typeof v === 'string' ? v : JSON.stringify(v, null, 2));

/** Where an entry came from (set by the API's own paths, never by a request header). */
const ORIGIN_TEXT: Record<string, string> = {
  webhook: 'webhook (a sender)',
  redeliver: 'redeliver (from the console, CLI or API)',
  test: 'test event (from the console, CLI or API)',
  rollback: 'rollback (a good artifact deployed again)',
};
const originText = (o?: string) => ORIGIN_TEXT[o ?? 'webhook'] ?? o ?? 'webhook';

/** What a target calls, in a few words (for the test event's confirmation): its type and the first address it has. */
function describeTarget(t: Json): string {
  const where = ['url', 'apiServer', 'functionName', 'projectName', 'service', 'repository']
    .map((k) => t?.[k])
    .find((v) => typeof v === 'string');
  return `${t?.type ?? 'unknown'} target${where ? ` ${where}` : ''}`;
}

// ---- API --------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

async function api(method: string, path: string, body?: unknown, opts: { signingIn?: boolean } = {}): Promise<Json> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token ?? ''}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    // a token that stopped working (rotated, signed out elsewhere): back to the sign-in page
    if (!opts.signingIn) location.hash = '#/signin';
    throw new ApiError(401, parsed);
  }
  if (res.status >= 400) throw new ApiError(res.status, parsed);
  return parsed;
}

// ---- pages ------------------------------------------------------------------------------------------------

function signIn() {
  nav.replaceChildren();
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', id: 'token-error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        try {
          await api('GET', '/admin/triggers', undefined, { signingIn: true });
          // no hashchange when the hash already is #/ (signed out on the list page)
          if (location.hash === '#/') void route();
          else location.hash = '#/';
        } catch {
          error.textContent = 'That token was not accepted.';
          input.setAttribute('aria-invalid', 'true');
          input.setAttribute('aria-describedby', 'token-error');
        }
      },
    },
    h('label', { for: 'token' }, 'Admin token'),
    input,
    error,
    h('p', {}, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
    h('p', { class: 'muted' }, 'The token stays in this tab (sessionStorage) and is sent only to this deployment.'),
  );
  show('Sign in', form);
  input.focus();
}

function copyButton(text: string, label: string) {
  return h(
    'button',
    {
      type: 'button',
      'aria-label': label,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // no clipboard permission (plain http, old browser): select-and-copy fallback
          const area = h('textarea', {}, text);
          document.body.append(area);
          area.select();
          document.execCommand('copy');
          area.remove();
        }
        toast('Copied');
      },
    },
    'Copy',
  );
}

async function triggersPage() {
  const { items } = await api('GET', '/admin/triggers');
  const last = await Promise.all(
    (items as Json[]).map((t) =>
      api('GET', `/admin/triggers/${t.id}/logs?limit=1`).then(
        (p) => p.items?.[0],
        () => undefined,
      ),
    ),
  );
  const setups = await Promise.all(
    (items as Json[]).map((t) => api('GET', `/admin/triggers/${t.id}/setup`).catch(() => undefined)),
  );
  const rows = (items as Json[]).map((t, i) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/t/${t.id}` }, t.name)),
      h('td', {}, t.provider),
      h('td', {}, t.enabled ? 'yes' : 'no'),
      h('td', {}, last[i] ? h('a', { href: `#/t/${t.id}/log/${last[i].id}` }, badge(last[i].status)) : '–'),
      h('td', { class: 'opt' }, last[i] ? when(last[i].receivedAt) : ''),
      h('td', {}, setups[i]?.webhookUrl ? copyButton(setups[i].webhookUrl, `Copy the webhook URL of ${t.name}`) : ''),
    ),
  );
  show(
    'Triggers',
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/new' }, 'New trigger')),
    items.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Name', 'Provider', 'Enabled', 'Last outcome'].map((c) => h('th', { scope: 'col' }, c)),
                h('th', { scope: 'col', class: 'opt' }, 'When'),
                h('th', { scope: 'col' }, 'Webhook URL'),
              ),
            ),
            h('tbody', {}, ...rows),
          ),
        )
      : 'No triggers yet.',
  );
}

let providerIds: string[] | undefined;
async function providers(): Promise<string[]> {
  // the list the API validates with, from its own OpenAPI document
  providerIds ??= (await api('GET', '/admin/openapi.json')).components.schemas.TriggerCreate.properties.provider
    .enum as string[];
  return providerIds;
}

/**
 * The fields of an edit form that differ from the trigger as it was read: a PATCH sends only these, so a save
 * never writes back what the user did not touch (the target as shown has its secrets redacted; the API restores
 * redacted values too, but what was not changed is not sent at all).
 */
function changedFields(body: Json, existing: Json): Json {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return Object.fromEntries(Object.entries(body).filter(([k, v]) => !same(v, existing[k])));
}

/** Create or edit: the API's field errors are shown under the field they name (e.g. target.url -> Target). */
async function triggerForm(id?: string) {
  const existing = id ? await api('GET', `/admin/triggers/${id}`) : undefined;
  const fields: Record<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement> = {};
  const errors: Record<string, HTMLElement> = {};
  const field = (
    name: string,
    label: string,
    control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
    help?: string,
  ) => {
    control.id = `f-${name}`;
    control.setAttribute('aria-describedby', `e-${name}`);
    fields[name] = control;
    errors[name] = h('p', { class: 'error', id: `e-${name}` });
    return h(
      'div',
      {},
      h('label', { for: control.id }, label),
      help ? h('p', { class: 'muted' }, help) : null,
      control,
      errors[name],
    );
  };
  const names = await providers();
  const form = h(
    'form',
    { novalidate: true },
    field(
      'name',
      'Name',
      h('input', { value: existing?.name ?? '', autocomplete: 'off' }),
      'lowercase letters, digits, "-", ".", "_"',
    ),
    field('description', 'Description', h('input', { value: existing?.description ?? '' })),
    id ? null : field('provider', 'Provider', h('select', {}, ...names.map((p) => h('option', { value: p }, p)))),
    field('enabled', 'Enabled', h('input', { type: 'checkbox', checked: existing ? existing.enabled : true })),
    field(
      'match',
      'Match rules (JSON)',
      h('textarea', {}, JSON.stringify(existing?.match ?? {}, null, 2)),
      'e.g. {"tags": {"semver": ">=1.0.0"}, "branches": ["main"]}',
    ),
    field(
      'target',
      'Target (JSON)',
      h(
        'textarea',
        {},
        JSON.stringify(existing?.target ?? { type: 'http', url: 'https://deploy.example.com/hook' }, null, 2),
      ),
    ),
    h('p', { class: 'error', id: 'e-form', role: 'alert' }),
    h(
      'div',
      { class: 'actions' },
      h('button', { class: 'primary', type: 'submit' }, id ? 'Save' : 'Create'),
      h('a', { class: 'button', href: id ? `#/t/${id}` : '#/' }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const [k, el] of Object.entries(errors)) {
      el.textContent = '';
      fields[k].removeAttribute('aria-invalid');
    }
    const formError = form.querySelector('#e-form')!;
    formError.textContent = '';
    const body: Json = { name: fields.name.value, enabled: (fields.enabled as HTMLInputElement).checked };
    if (fields.provider) body.provider = fields.provider.value;
    if (fields.description.value) body.description = fields.description.value;
    else if (existing?.description) body.description = null;
    for (const k of ['match', 'target']) {
      try {
        body[k] = JSON.parse(fields[k].value || '{}');
      } catch (err) {
        return fail(k, `not valid JSON: ${(err as Error).message}`);
      }
    }
    try {
      const saved = id
        ? await api('PATCH', `/admin/triggers/${id}`, changedFields(body, existing))
        : await api('POST', '/admin/triggers', body);
      if (!id) sessionStorage.setItem(`triggerfish.created.${saved.id}`, '1');
      location.hash = `#/t/${saved.id}${id ? '' : '/setup'}`;
      toast(id ? 'Saved' : 'Created');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const named = String(err.body?.field ?? '');
      const key = Object.keys(fields).find((k) => named === k || named.startsWith(`${k}.`));
      if (key) fail(key, err.message);
      else formError.textContent = err.message;
    }
  });
  function fail(key: string, message: string) {
    errors[key].textContent = message;
    fields[key].setAttribute('aria-invalid', 'true');
    fields[key].focus();
  }
  show(id ? `Edit ${existing.name}` : 'New trigger', form);
  fields.name.focus();
}

async function setupPage(id: string) {
  const s = await api('GET', `/admin/triggers/${id}/setup`);
  show(
    `Set up ${s.name} (${s.provider})`,
    s.webhookUrl
      ? h(
          'div',
          {},
          h('h2', {}, 'Webhook URL'),
          h(
            'div',
            { class: 'url' },
            h('code', { id: 'webhook-url' }, s.webhookUrl),
            copyButton(s.webhookUrl, 'Copy the webhook URL'),
          ),
        )
      : null,
    s.headers && Object.keys(s.headers).length ? h('div', {}, h('h2', {}, 'Headers'), pretty(s.headers)) : null,
    s.settings ? h('div', {}, h('h2', {}, 'Settings'), pretty(s.settings)) : null,
    h('h2', {}, 'Steps at the sender'),
    h('ol', {}, ...(s.steps as string[]).map((step) => h('li', {}, step))),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: `#/t/${id}` }, 'Back to the trigger')),
  );
}

/** "v1.4.2 · sha256:ab12… · 3 min ago" of a deploy-state ref (GET .../state), linked to its log entry. */
function artifactCell(id: string, r: Json | null) {
  if (!r) return h('td', {}, '–');
  const what = [r.tag ?? r.image, r.artifact ? `${String(r.artifact).slice(0, 19)}…` : null]
    .filter(Boolean)
    .join(' · ');
  return h(
    'td',
    {},
    h('a', { href: `#/t/${id}/log/${r.logId}` }, what || r.logId),
    ' ',
    h('span', { class: 'muted' }, when(r.at)),
  );
}

/** Per lane: what runs now, the good one before it, what is in flight, and a Roll back button (confirmed first). */
function runningNow(id: string, lanes: Json[], act: (label: string, fn: () => Promise<void>) => HTMLElement) {
  if (!lanes.length) return h('p', {}, 'Nothing deployed yet.');
  const rows = lanes.map((l) =>
    h(
      'tr',
      {},
      artifactCell(id, l.running),
      artifactCell(id, l.previous),
      artifactCell(id, l.inFlight),
      h(
        'td',
        {},
        l.rollbackTo
          ? act('Roll back', async () => {
              const to = l.rollbackTo.tag ?? l.rollbackTo.image ?? l.rollbackTo.logId;
              if (!confirm(`Roll back to ${to}? It is deployed again now, as a new entry.`)) return;
              const r = await api('POST', `/admin/triggers/${id}/rollback`, { lane: l.lane });
              toast('Rollback queued');
              location.hash = `#/t/${id}/log/${r.log}`;
            })
          : '',
      ),
    ),
  );
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { id: 'running-now' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Running'),
          h('th', { scope: 'col' }, 'Previous good'),
          h('th', { scope: 'col' }, 'In flight'),
          h('th', { scope: 'col' }, ''),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

async function triggerPage(id: string, cursor?: string, statusFilter?: string) {
  const t = await api('GET', `/admin/triggers/${id}`);
  const q = new URLSearchParams({ limit: '20' });
  if (statusFilter) q.set('status', statusFilter);
  if (cursor) q.set('cursor', cursor);
  const [page, lanes] = await Promise.all([
    api('GET', `/admin/triggers/${id}/logs?${q}`),
    api('GET', `/admin/triggers/${id}/state`),
  ]);
  const act = (label: string, fn: () => Promise<void>) =>
    h(
      'button',
      {
        type: 'button',
        onclick: async () => {
          try {
            await fn();
          } catch (e) {
            toast((e as Error).message);
          }
        },
      },
      label,
    );
  const dryInput = h('textarea', { id: 'dry-payload', 'aria-describedby': 'dry-help' });
  const dryHeaders = h('input', { id: 'dry-headers', placeholder: 'X-GitHub-Event: push' });
  const dryOut = h('div', { id: 'dry-result', 'aria-live': 'polite' });
  const filter = h(
    'select',
    {
      id: 'status-filter',
      onchange: () => (location.hash = `#/t/${id}${filter.value ? `?status=${filter.value}` : ''}`),
    },
    h('option', { value: '' }, 'all'),
    ...STATUSES.map((s) => h('option', { value: s, ...(s === statusFilter ? { selected: true } : {}) }, s)),
  );
  const rows = (page.items as Json[]).map((e) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/t/${id}/log/${e.id}` }, when(e.receivedAt))),
      h('td', {}, badge(e.status)),
      h('td', { class: 'opt' }, e.origin ?? 'webhook'),
      h('td', { class: 'opt' }, e.event?.image ?? e.event?.repoFullName ?? ''),
      h('td', {}, e.event?.tag ?? e.event?.branch ?? ''),
      h('td', { class: 'opt' }, e.reason ?? ''),
    ),
  );
  show(
    t.name,
    h('p', { class: 'muted' }, `${t.provider} · ${t.enabled ? 'enabled' : 'disabled'} · ${t.id}`),
    h(
      'div',
      { class: 'actions' },
      h('a', { class: 'button', href: `#/t/${id}/setup` }, 'Setup'),
      h('a', { class: 'button', href: `#/t/${id}/edit` }, 'Edit'),
      act(t.enabled ? 'Disable' : 'Enable', async () => {
        await api('PATCH', `/admin/triggers/${id}`, { enabled: !t.enabled });
        void route();
      }),
      act('Send test event', async () => {
        // a test runs the real pipeline: a matching sample is deployed to the real target, so ask first
        if (
          !confirm(
            `Send a test event? It is a sample ${t.provider} event through the real pipeline: if it matches, it is deployed to the ${describeTarget(t.target)}.`,
          )
        )
          return;
        const r = await api('POST', `/admin/triggers/${id}/test`);
        toast(`Test event: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
        void route();
      }),
      act('Rotate secret', async () => {
        if (!confirm('Rotate the secret? The sender must be given the new one; the old one works for a grace period.'))
          return;
        await api('POST', `/admin/triggers/${id}/secret`);
        location.hash = `#/t/${id}/setup`;
      }),
      act('Delete', async () => {
        if (!confirm(`Delete ${t.name}?`)) return;
        await api('DELETE', `/admin/triggers/${id}`);
        location.hash = '#/';
      }),
    ),
    h('h2', {}, 'Running now'),
    runningNow(id, lanes.lanes as Json[], act),
    h('h2', {}, 'Trigger log'),
    h('div', { class: 'actions' }, h('label', { for: 'status-filter' }, 'Status'), filter),
    page.items.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { id: 'log' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Received'),
                h('th', { scope: 'col' }, 'Status'),
                h('th', { scope: 'col', class: 'opt' }, 'Origin'),
                h('th', { scope: 'col', class: 'opt' }, 'What'),
                h('th', { scope: 'col' }, 'Tag / branch'),
                h('th', { scope: 'col', class: 'opt' }, 'Reason'),
              ),
            ),
            h('tbody', {}, ...rows),
          ),
        )
      : h('p', {}, 'No entries.'),
    h(
      'div',
      { class: 'actions' },
      cursor
        ? h('a', { class: 'button', href: `#/t/${id}${statusFilter ? `?status=${statusFilter}` : ''}` }, 'Newest')
        : null,
      page.cursor
        ? h(
            'a',
            {
              class: 'button',
              id: 'older',
              href: `#/t/${id}?${new URLSearchParams({ ...(statusFilter ? { status: statusFilter } : {}), cursor: page.cursor })}`,
            },
            'Older',
          )
        : null,
    ),
    h('h2', {}, 'Dry run'),
    h(
      'p',
      { class: 'muted', id: 'dry-help' },
      'Paste a payload as the sender sends it: see what the trigger would do. Nothing is stored or deployed.',
    ),
    h('label', { for: 'dry-payload' }, 'Payload'),
    dryInput,
    h('label', { for: 'dry-headers' }, 'Headers (one "Name: value" a line)'),
    dryHeaders,
    h(
      'div',
      { class: 'actions' },
      act('Check', async () => {
        const headers: Record<string, string> = {};
        for (const line of dryHeaders.value.split(/[\n;]/)) {
          const at = line.indexOf(':');
          if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
        try {
          const r = await api('POST', `/admin/triggers/${id}/match`, { payload: dryInput.value, headers });
          dryOut.replaceChildren(
            h('p', {}, h('strong', {}, r.matched ? 'Would deploy' : `Would not deploy: ${r.reason}`)),
            r.event ? pretty(r.event) : '',
          );
        } catch (e) {
          dryOut.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
        }
      }),
    ),
    dryOut,
  );
  // refresh while something is on its way (and only while this page is shown)
  if ((page.items as Json[]).some((e) => IN_FLIGHT.includes(e.status)))
    refreshTimer = window.setTimeout(route, REFRESH_MS);
}

async function entryPage(id: string, logId: string) {
  const e = await api('GET', `/admin/triggers/${id}/logs/${logId}`);
  const attempts = (e.attempts as Json[]) ?? [];
  show(
    `Log entry ${e.id}`,
    h(
      'dl',
      {},
      h('dt', {}, 'Status'),
      h('dd', { id: 'entry-status' }, badge(e.status)),
      h('dt', {}, 'Reason'),
      h('dd', {}, e.reason ?? '–'),
      h('dt', {}, 'Received'),
      h('dd', {}, when(e.receivedAt)),
      h('dt', {}, 'Delivery'),
      h('dd', {}, e.deliveryId ?? '–'),
      e.redeliveryOf ? h('dt', {}, 'Redelivery of') : null,
      e.redeliveryOf ? h('dd', {}, h('a', { href: `#/t/${id}/log/${e.redeliveryOf}` }, e.redeliveryOf)) : null,
      e.rollbackOf ? h('dt', {}, 'Rollback of') : null,
      e.rollbackOf
        ? h('dd', { id: 'entry-rollback-of' }, h('a', { href: `#/t/${id}/log/${e.rollbackOf}` }, e.rollbackOf))
        : null,
      h('dt', {}, 'Origin'),
      h('dd', { id: 'entry-origin' }, originText(e.origin)),
    ),
    h(
      'div',
      { class: 'actions' },
      h('a', { class: 'button', href: `#/t/${id}` }, 'Back to the log'),
      REDELIVERABLE.includes(e.status) && e.event
        ? h(
            'button',
            {
              type: 'button',
              id: 'redeliver',
              onclick: async () => {
                try {
                  const r = await api('POST', `/admin/triggers/${id}/logs/${logId}/redeliver`);
                  location.hash = `#/t/${id}/log/${r.log}`;
                  toast('Redelivered');
                } catch (err) {
                  toast((err as Error).message);
                }
              },
            },
            'Redeliver',
          )
        : null,
    ),
    h('h2', {}, 'Normalized event'),
    e.event ? pretty(e.event) : h('p', {}, '–'),
    h('h2', {}, `Attempts (${attempts.length})`),
    attempts.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['#', 'At', 'Status', 'Duration', 'Response / error'].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              ...attempts.map((a, i) =>
                h(
                  'tr',
                  {},
                  h('td', {}, i + 1),
                  h('td', {}, when(a.at)),
                  h('td', {}, a.statusCode ?? '–'),
                  h('td', {}, `${a.durationMs} ms`),
                  h('td', {}, pretty(a.error ?? a.response ?? '')),
                ),
              ),
            ),
          ),
        )
      : h('p', {}, '–'),
    h('h2', {}, 'Request (redacted)'),
    e.request
      ? pretty({ method: e.request.method, path: e.request.path, query: e.request.query, headers: e.request.headers })
      : null,
    e.request ? pretty(jsonOrText(e.request.body)) : null,
  );
  if (IN_FLIGHT.includes(e.status)) refreshTimer = window.setTimeout(route, REFRESH_MS);
}

// ---- routing ----------------------------------------------------------------------------------------------

async function route() {
  window.clearTimeout(refreshTimer);
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  if (!sessionStorage.getItem(TOKEN_KEY) || path === '/signin') return signIn();
  nav.replaceChildren(
    h('a', { href: '#/' }, 'Triggers'),
    h('a', { href: '#/signin', onclick: () => sessionStorage.removeItem(TOKEN_KEY) }, 'Sign out'),
  );
  const m = /^\/t\/([a-f0-9]{24})(?:\/(edit|setup|log\/([A-Za-z0-9]+)))?$/.exec(path ?? '');
  try {
    if (path === '/new') await triggerForm();
    else if (m && m[2] === 'edit') await triggerForm(m[1]);
    else if (m && m[2] === 'setup') await setupPage(m[1]);
    else if (m && m[3]) await entryPage(m[1], m[3]);
    else if (m) await triggerPage(m[1], params.get('cursor') ?? undefined, params.get('status') ?? undefined);
    else await triggersPage();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    show('Something went wrong', (err as Error).message, h('p', {}, h('a', { href: '#/' }, 'Back to the triggers')));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
