/** Who may do what on the dashboard: each role can do everything the roles before it can. */
export const roles = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Whether `role` may do what needs at least `least`. */
export const allows = (role: Role, least: Role) => roles.indexOf(role) >= roles.indexOf(least);
