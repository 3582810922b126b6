// Schema migrations, one list for every dialect (SQLite now, PostgreSQL for replicas): written
// with Kysely's schema builder so each dialect gets its own DDL. Never edit a shipped migration;
// add the next one.

import { sql, type Kysely, type Migration } from 'kysely';

export const MIGRATIONS: Record<string, Migration> = {
  '0001_commands_invocations_tasks': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('commands')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('command_type', 'text', (c) => c.notNull())
        .addColumn('working_directory', 'text', (c) => c.notNull())
        .addColumn('timeout', 'integer', (c) => c.notNull())
        .addColumn('enable_parameter', 'integer', (c) => c.notNull())
        .addColumn('default_parameters', 'text', (c) => c.notNull())
        .addColumn('default_parameter_confs', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('cos_bucket_url', 'text', (c) => c.notNull())
        .addColumn('cos_key_prefix', 'text', (c) => c.notNull())
        .addColumn('saved', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('commands_list')
        .on('commands')
        .columns(['account', 'region', 'saved', 'created_at'])
        .execute();
      await db.schema
        .createIndex('commands_name')
        .unique()
        .on('commands')
        .columns(['account', 'region', 'name'])
        .where(sql.ref('saved'), '=', 1)
        .execute();

      await db.schema
        .createTable('instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('machine_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('agent_version', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('instances_list').on('instances').columns(['account', 'region']).execute();

      await db.schema
        .createTable('invocations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('command_id', 'text', (c) => c.notNull())
        .addColumn('command_name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('default_parameters', 'text', (c) => c.notNull())
        .addColumn('instance_kind', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('command_content', 'text', (c) => c.notNull())
        .addColumn('command_type', 'text', (c) => c.notNull())
        .addColumn('timeout', 'integer', (c) => c.notNull())
        .addColumn('working_directory', 'text', (c) => c.notNull())
        .addColumn('cos_bucket_url', 'text', (c) => c.notNull())
        .addColumn('cos_key_prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('invocations_list')
        .on('invocations')
        .columns(['account', 'region', 'created_at'])
        .execute();
      await db.schema.createIndex('invocations_command').on('invocations').columns(['command_id']).execute();

      await db.schema
        .createTable('tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('invocation_id', 'text', (c) => c.notNull())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('command_id', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('script', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('start_at', 'bigint')
        .addColumn('end_at', 'bigint')
        .addColumn('exec_start_at', 'bigint')
        .addColumn('exec_end_at', 'bigint')
        .addColumn('exit_code', 'integer', (c) => c.notNull())
        .addColumn('error_info', 'text', (c) => c.notNull())
        .addColumn('dropped', 'bigint', (c) => c.notNull())
        .addColumn('final_log_index', 'integer')
        .addColumn('output_url', 'text', (c) => c.notNull())
        .addColumn('cos_error', 'text', (c) => c.notNull())
        .addColumn('deliver_deadline', 'bigint', (c) => c.notNull())
        .addColumn('run_deadline', 'bigint')
        .execute();
      await db.schema.createIndex('tasks_invocation').on('tasks').columns(['invocation_id']).execute();
      await db.schema.createIndex('tasks_instance').on('tasks').columns(['instance_id', 'status']).execute();
      await db.schema.createIndex('tasks_status').on('tasks').columns(['status']).execute();
      await db.schema.createIndex('tasks_command').on('tasks').columns(['command_id', 'status']).execute();
      await db.schema
        .createIndex('tasks_list')
        .on('tasks')
        .columns(['account', 'region', 'created_at'])
        .execute();

      await db.schema
        .createTable('task_output')
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('data', 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('task_output_pk', ['task_id', 'idx'])
        .execute();
    },
  },
  '0002_registration': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('register_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('value_sha256', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('instance_name_prefix', 'text', (c) => c.notNull())
        .addColumn('register_limit', 'integer', (c) => c.notNull())
        .addColumn('registered_count', 'integer', (c) => c.notNull())
        .addColumn('ip_address_range', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('register_codes_list')
        .on('register_codes')
        .columns(['account', 'region', 'created_at'])
        .execute();
      // One column per statement: SQLite adds a single column per ALTER TABLE.
      await db.schema.alterTable('instances').addColumn('register_code_id', 'text').execute();
      await db.schema.alterTable('instances').addColumn('public_key', 'text').execute();
      await db.schema
        .alterTable('instances')
        .addColumn('agent_machine_id', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .alterTable('instances')
        .addColumn('local_ip', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema.alterTable('instances').addColumn('updated_at', 'bigint').execute();
      await db.schema
        .createTable('agent_random_keys')
        .addColumn('random_key', 'text', (c) => c.primaryKey())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('agent_random_keys_expiry')
        .on('agent_random_keys')
        .columns(['expires_at'])
        .execute();
    },
  },
  // Retention (server/tasks/retention.ts) walks invocations oldest first, overall and per account.
  '0004_retention_cos': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('invocations_age').on('invocations').columns(['created_at']).execute();
      await db.schema
        .createIndex('invocations_account_age')
        .on('invocations')
        .columns(['account', 'created_at'])
        .execute();
    },
  },
  // Invokers and their records (server/resources/invokers.ts, server/invokers/).
  '0005_invokers': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('invokers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('command_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('instance_ids', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('recurrence', 'text', (c) => c.notNull())
        .addColumn('invoke_at', 'bigint')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('schedule_since', 'bigint', (c) => c.notNull())
        .addColumn('checked_until', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('invokers_list')
        .on('invokers')
        .columns(['account', 'region', 'created_at'])
        .execute();
      await db.schema.createIndex('invokers_command').on('invokers').columns(['command_id']).execute();
      await db.schema
        .createTable('invoker_records')
        .addColumn('invoker_id', 'text', (c) => c.notNull())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('invoke_at', 'bigint', (c) => c.notNull())
        .addColumn('invocation_id', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('invoker_records_pk', ['invoker_id', 'invoke_at'])
        .execute();
      await db.schema
        .createIndex('invoker_records_list')
        .on('invoker_records')
        .columns(['account', 'region', 'invoke_at'])
        .execute();
      await db.schema
        .createIndex('invoker_records_invocation')
        .on('invoker_records')
        .columns(['invocation_id'])
        .execute();
    },
  },
  // Hardening: replayed API signatures, the output bytes kept per task, the object store's index.
  '0006_hardening': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('api_signatures')
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('api_signatures_pk', ['signature', 'action'])
        .execute();
      await db.schema
        .createIndex('api_signatures_expiry')
        .on('api_signatures')
        .columns(['expires_at'])
        .execute();
      await db.schema
        .alterTable('tasks')
        .addColumn('output_bytes', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update tasks set output_bytes = coalesce((select sum(length(o.data)) from task_output o where o.task_id = tasks.id), 0)`.execute(
        db,
      );
      await db.schema
        .createTable('cos_objects')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('cos_objects_pk', ['bucket', 'key'])
        .execute();
      await db.schema.createIndex('cos_objects_account').on('cos_objects').columns(['account']).execute();
      await db.schema.createIndex('cos_objects_task').on('cos_objects').columns(['task_id']).execute();
    },
  },
  // Tags of managed instances (RegisterInstanceInfo.Tags; the tag filters of
  // DescribeRegisterInstances): a JSON array of {Key, Value}, like the tags of commands.
  '0007_instance_tags': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('instances')
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
  },
};
