// Who is signed in, kept in sessionStorage (one tab's sign-in): the tenant, the username, the
// role and the CSRF token of the sign-in. The session token itself lives only in the server's
// HttpOnly cookie; the page never sees it. An admin, who has no tenant, picks one (`tenant`
// then holds the one picked).

export type Role = 'admin' | 'manager' | 'supervisor' | 'agent' | 'analyst';

export interface Session {
  tenant: string;
  username: string;
  role: Role;
  csrf: string;
}

const kKey = 'tamas.session';
const kAdminTenant = 'tamas.admin-tenant';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(kKey);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.username !== 'string' || typeof s.role !== 'string' || typeof s.csrf !== 'string') {
      return null;
    }
    return { tenant: s.tenant ?? '', username: s.username, role: s.role, csrf: s.csrf };
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(kKey, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(kKey);
  sessionStorage.removeItem(kAdminTenant);
}

/** The tenant the pages work on: the user's own, or for an admin the one they typed. */
export function currentTenant(s: Session): string {
  if (s.role !== 'admin') return s.tenant;
  return sessionStorage.getItem(kAdminTenant) ?? '';
}

export function setAdminTenant(tenant: string): void {
  sessionStorage.setItem(kAdminTenant, tenant.trim());
}

/** The page a role lands on after signing in. */
export function homeOf(role: Role): string {
  switch (role) {
    case 'agent':
      return '/agent';
    case 'supervisor':
    case 'manager':
      return '/wallboard';
    case 'admin':
      return '/admin';
    case 'analyst':
      return '/home';
  }
}

/** Which pages a role may open (the server enforces the same through the API's roles). */
export function mayOpen(role: Role, page: 'agent' | 'wallboard' | 'admin'): boolean {
  switch (page) {
    case 'agent':
      return role === 'agent';
    case 'wallboard':
      return role === 'supervisor' || role === 'manager' || role === 'admin';
    case 'admin':
      return role === 'manager' || role === 'admin';
  }
}
