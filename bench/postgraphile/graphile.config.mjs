// PostGraphile v5 for the side-by-side queue benchmark (bench/queue.py), as an agency would run it:
// the "amber" preset over casegraph's own tables, plus the connection-filter plugin so a query can
// ask for what casegraph's authorization allows an agent (cases of their groups, assigned to or
// requested by them, not deleted, in the dashboard's statuses). Production settings: no GraphiQL,
// no explain, no watch mode.
//
// PgIndexBehaviorsPlugin is disabled: it hides filters on columns without an index, and casegraph's
// migrations index none of cases.assignment_group_id / assigned_to_id / requester_id / deleted_at,
// which the agent's visibility filter needs. (The one index that matters for speed, on
// case_tasks.case_id for the per-case task lists, bench/queue.py adds if the schema lacks it.) bench/postgraphile.py copies this file next to the installed
// node_modules and sets the environment variables read here.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_DATABASE_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.BENCH_POSTGRAPHILE_PORT),
    graphiql: false,
    watch: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
