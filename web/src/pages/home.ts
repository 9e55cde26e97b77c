// The page of a role that has no desktop yet (an analyst): says so plainly.

import { h } from '../dom';
import { t } from '../i18n';
import type { Page, PageContext } from '../shell';

export class HomePage implements Page {
  constructor(private readonly ctx: PageContext) {}
  render(): Node {
    return h(
      'section',
      { class: 'card' },
      h('h1', null, t('home.title', { name: this.ctx.session.username })),
      h('p', null, t('home.nothing')),
    );
  }
  destroy(): void {}
}
