import { InitialSchema1764160000000 } from 'src/database/migrations/1764160000000-initial-schema';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1764160000000];
