// For an admin, who has no tenant of their own: the tenant the pages work on, typed by its id
// (there is no API listing tenants).

import { field, h } from '../dom';
import { t } from '../i18n';
import { setAdminTenant } from '../session';
import type { PageContext } from '../shell';

export function tenantPicker(ctx: PageContext): HTMLElement | null {
  if (ctx.session.role !== 'admin') return null;
  const input = h('input', { id: 'tenant-id', value: ctx.tenant, required: true, attrs: { dir: 'ltr', spellcheck: false } });
  return h(
    'form',
    {
      class: 'card tenant-picker inline-form',
      onsubmit: (e: SubmitEvent) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        setAdminTenant(input.value);
        ctx.navigate(location.pathname);
      },
    },
    field(t('tenant.pick'), input),
    h('button', { type: 'submit', id: 'tenant-open' }, t('tenant.open')),
  );
}
