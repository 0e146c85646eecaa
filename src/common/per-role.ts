import type { DynamicModule } from '@nestjs/common';
import type { RoleParts } from 'src/config/app.config';

/**
 * One module object per role: Nest tells dynamic modules apart by object, so every module that
 * imports `X.forRole(role)` must get the same object, or X's providers (and queue workers) would
 * exist twice.
 */
export function perRole(
  build: (role: RoleParts) => DynamicModule,
): (role: RoleParts) => DynamicModule {
  const built = new Map<string, DynamicModule>();
  return (role) => {
    const key = `${role.http}:${role.worker}`;
    let module = built.get(key);
    if (!module) {
      module = build(role);
      built.set(key, module);
    }
    return module;
  };
}
