CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`condition` text NOT NULL,
	`destination_id` text,
	`notify` text NOT NULL,
	`cooldown_minutes` integer NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`last_fired_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_rules_org` ON `alert_rules` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`before` text,
	`after` text,
	`request_id` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_org_created` ON `audit_log` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `cron_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`cursor` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dead_letters_org` ON `dead_letters` (`organization_id`,`received_at`);--> statement-breakpoint
CREATE TABLE `destinations` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`label` text NOT NULL,
	`type` text NOT NULL,
	`description` text,
	`config` text NOT NULL,
	`secrets` text,
	`delivery_policy` text DEFAULT '{}' NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`disabled_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `destinations_org_label` ON `destinations` (`organization_id`,`label`);--> statement-breakpoint
CREATE INDEX `destinations_org_created` ON `destinations` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `downloads` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`organization_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`object_key` text NOT NULL,
	`expires_at` text NOT NULL,
	`max_downloads` integer NOT NULL,
	`download_count` integer DEFAULT 0 NOT NULL,
	`revoked_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `downloads_token_hash` ON `downloads` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `downloads_delivery_destination` ON `downloads` (`organization_id`,`delivery_id`,`destination_id`);--> statement-breakpoint
CREATE TABLE `metric_rollups` (
	`organization_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`destination_type` text NOT NULL,
	`minute` integer NOT NULL,
	`accepted` integer DEFAULT 0 NOT NULL,
	`delivered` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`retried` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`latency_sum_ms` integer DEFAULT 0 NOT NULL,
	`latency_le_50` integer DEFAULT 0 NOT NULL,
	`latency_le_100` integer DEFAULT 0 NOT NULL,
	`latency_le_250` integer DEFAULT 0 NOT NULL,
	`latency_le_500` integer DEFAULT 0 NOT NULL,
	`latency_le_1000` integer DEFAULT 0 NOT NULL,
	`latency_le_2500` integer DEFAULT 0 NOT NULL,
	`latency_le_5000` integer DEFAULT 0 NOT NULL,
	`latency_le_10000` integer DEFAULT 0 NOT NULL,
	`latency_le_30000` integer DEFAULT 0 NOT NULL,
	`latency_le_inf` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`organization_id`, `destination_id`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `metric_rollups_org_minute` ON `metric_rollups` (`organization_id`,`minute`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
