// Public commands (CreatedBy=TAT): a curated set of Linux operations scripts that every account
// finds in every region (DescribeCommands with `created-by=TAT`, or `scene-id`) and runs with
// InvokeCommand. Defined here, never stored: nobody can change or delete them, and they do not
// count toward the COMMAND quota. Ids are fixed for good, as clients and invokers keep them.
//
// Parameter values are substituted into the script as text, so each parameter has a rule the
// server checks before anything runs (InvalidParameterValue); the script checks the same rule
// again. No rule admits a line break.

import { SCENES } from './scenes.js';
import { script as checkHttp } from './scripts/check-http.js';
import { script as checkPort } from './scripts/check-port.js';
import { script as collectDiagnostics } from './scripts/collect-diagnostics.js';
import { script as diskMemoryReport } from './scripts/disk-memory-report.js';
import { script as findLargeFiles } from './scripts/find-large-files.js';
import { script as installPackages } from './scripts/install-packages.js';
import { script as restartService } from './scripts/restart-service.js';
import { script as rotateLogs } from './scripts/rotate-logs.js';
import { script as upgradePackages } from './scripts/upgrade-packages.js';

export interface PublicParameter {
  name: string;
  /** Absent: the caller must give a value (else InvalidParameterValue.LackOfParameterInfo). */
  default?: string;
  description: string;
  /** Whether a value is acceptable. */
  test: (value: string) => boolean;
  /** The rule, for error messages and FormattedDescription. */
  rule: string;
}

export interface PublicCommand {
  id: string;
  name: string;
  /** At most 120 characters, as for user commands. */
  description: string;
  descriptionZh: string;
  /** Scene ids. */
  scenes: string[];
  script: string;
  /** Seconds (TAT's Timeout); InvokeCommand may override it. */
  timeout: number;
  parameters: PublicParameter[];
}

const matches = (re: RegExp) => (v: string) => re.test(v);
/** A whole number from min to max, written without leading zeros. */
const wholeNumber = (min: number, max: number) => ({
  test: (v: string) => /^(0|[1-9][0-9]{0,8})$/.test(v) && Number(v) >= min && Number(v) <= max,
  rule: `a whole number from ${min} to ${max}`,
});
const PACKAGE = '[A-Za-z0-9][A-Za-z0-9.+_:~=-]*';
const packageList = (optional: boolean) => ({
  test: matches(new RegExp(`^ *${optional ? '(' : ''}${PACKAGE}( +${PACKAGE})*${optional ? ')?' : ''} *$`)),
  rule: `package names separated by spaces (letters, digits and . + _ : ~ = -; apt version pins as name=version)${optional ? ', or nothing' : ''}`,
});
const packageManager: PublicParameter = {
  name: 'packageManager',
  default: 'auto',
  description: 'auto (the first of apt-get, dnf, yum found), apt, dnf or yum.',
  test: matches(/^(auto|apt|dnf|yum)$/),
  rule: 'auto, apt, dnf or yum',
};
const directoryPath = {
  test: matches(/^\/[A-Za-z0-9._/+@-]*$/),
  rule: 'an absolute path of letters, digits and . _ / + @ -',
};
const seconds = (name: string, dflt: string, what: string): PublicParameter => ({
  name,
  default: dflt,
  description: what,
  ...wholeNumber(1, 999),
});

export const PUBLIC_COMMANDS: readonly PublicCommand[] = [
  {
    id: 'cmd-wqpie2ci',
    name: 'TAT_DiskMemoryReport',
    description:
      'Disk space, inodes, memory and swap usage; exits 1 when any of them is at or above the threshold.',
    descriptionZh: '查看磁盘空间、inode、内存和交换分区的使用率；任一项达到阈值时以退出码 1 结束。',
    scenes: [SCENES.inspection.id],
    script: diskMemoryReport,
    timeout: 60,
    parameters: [
      {
        name: 'threshold',
        default: '90',
        description: 'Usage in percent at which a filesystem, memory or swap counts as a warning.',
        ...wholeNumber(1, 100),
      },
    ],
  },
  {
    id: 'cmd-ieydiyc0',
    name: 'TAT_CollectDiagnostics',
    description:
      'Read-only troubleshooting snapshot: system, load, memory, disks, top processes, sockets, failed units, logs.',
    descriptionZh:
      '只读的故障排查快照：系统信息、负载、内存、磁盘、高占用进程、监听端口、失败的服务单元和日志。',
    scenes: [SCENES.inspection.id, SCENES.services.id],
    script: collectDiagnostics,
    timeout: 120,
    parameters: [
      {
        name: 'lines',
        default: '50',
        description: 'How many of the latest kernel messages and journal errors to show.',
        ...wholeNumber(0, 999),
      },
      {
        name: 'top',
        default: '10',
        description: 'How many processes to list by CPU and by memory.',
        ...wholeNumber(0, 999),
      },
    ],
  },
  {
    id: 'cmd-t74chxyl',
    name: 'TAT_FindLargeFiles',
    description:
      'The largest files and subdirectories under a directory, on its filesystem only (what fills a disk).',
    descriptionZh: '列出目录下（不跨文件系统）最大的文件和子目录，用于排查磁盘被占满的原因。',
    scenes: [SCENES.inspection.id, SCENES.logs.id],
    script: findLargeFiles,
    timeout: 600,
    parameters: [
      { name: 'directory', default: '/', description: 'Where to look.', ...directoryPath },
      {
        name: 'minSizeMB',
        default: '100',
        description: 'List files larger than this many MiB.',
        ...wholeNumber(0, 9_999_999),
      },
      {
        name: 'count',
        default: '20',
        description: 'How many files and directories to list.',
        ...wholeNumber(1, 999),
      },
    ],
  },
  {
    id: 'cmd-wt5dwi3s',
    name: 'TAT_InstallPackages',
    description:
      'Installs packages with apt-get (Debian, Ubuntu) or dnf/yum (RHEL family), non-interactively.',
    descriptionZh: '使用 apt-get（Debian、Ubuntu）或 dnf/yum（RHEL 系）非交互地安装软件包。',
    scenes: [SCENES.packages.id],
    script: installPackages,
    timeout: 1800,
    parameters: [
      {
        name: 'packages',
        description: 'The packages to install, separated by spaces.',
        ...packageList(false),
      },
      packageManager,
    ],
  },
  {
    id: 'cmd-4n8mo66d',
    name: 'TAT_UpgradePackages',
    description:
      'Upgrades all packages or the named ones (apt-get, dnf, yum), or lists upgrades; says if a reboot is needed.',
    descriptionZh: '升级全部或指定的软件包（apt-get、dnf、yum），或只列出可升级的包；并提示是否需要重启。',
    scenes: [SCENES.packages.id],
    script: upgradePackages,
    timeout: 3600,
    parameters: [
      {
        name: 'packages',
        default: '',
        description: 'The packages to upgrade, separated by spaces; empty: every upgradable package.',
        ...packageList(true),
      },
      packageManager,
      {
        name: 'dryRun',
        default: 'false',
        description: 'true: only list what would be upgraded.',
        test: matches(/^(true|false)$/),
        rule: 'true or false',
      },
    ],
  },
  {
    id: 'cmd-sik4coyu',
    name: 'TAT_RestartService',
    description:
      'Restarts a systemd service, waits until it is active and shows its status; exits 1 if it is not.',
    descriptionZh: '重启 systemd 服务，等待其进入 active 状态并显示服务状态；未能启动时以退出码 1 结束。',
    scenes: [SCENES.services.id],
    script: restartService,
    timeout: 360,
    parameters: [
      {
        name: 'service',
        description: 'The unit to restart, such as nginx or nginx.service.',
        test: matches(/^[A-Za-z0-9][A-Za-z0-9:_.@\\-]{0,255}$/),
        rule: 'a systemd unit name (letters, digits and : _ . @ \\ -)',
      },
      {
        name: 'waitSeconds',
        default: '10',
        description: 'How long to wait for the service to become active after the restart.',
        ...wholeNumber(0, 300),
      },
    ],
  },
  {
    id: 'cmd-j5393fxs',
    name: 'TAT_RotateLogs',
    description:
      'Rotates the logs of a directory: copies, truncates and gzips each one; deletes archives older than keepDays.',
    descriptionZh: '轮转目录中的日志：复制、清空并压缩每个日志文件，删除超过保留天数的归档。',
    scenes: [SCENES.logs.id],
    script: rotateLogs,
    timeout: 600,
    parameters: [
      {
        name: 'directory',
        description: 'The directory of the logs (not /); files directly in it are rotated.',
        test: matches(/^(?=.*[^/])(?!.*\/\.{1,2}(?:\/|$))\/[A-Za-z0-9._/+@-]*$/),
        rule: 'an absolute path of letters, digits and . _ / + @ -, without . or .. parts, not /',
      },
      {
        name: 'pattern',
        default: '*.log',
        description: 'Which files to rotate, as a file name pattern.',
        test: matches(/^[A-Za-z0-9._*?-]{1,255}$/),
        rule: 'a file name pattern of letters, digits and . _ - * ?',
      },
      {
        name: 'keepDays',
        default: '7',
        description: 'Rotated archives older than this many days are deleted.',
        ...wholeNumber(1, 9999),
      },
      {
        name: 'minSizeKB',
        default: '0',
        description: 'Rotate only files of at least this many KiB (0: every non-empty file).',
        ...wholeNumber(0, 999_999_999),
      },
    ],
  },
  {
    id: 'cmd-fnoqsso2',
    name: 'TAT_CheckPort',
    description: 'Whether a TCP port accepts connections from the instance; exits 1 when it does not.',
    descriptionZh: '检查实例能否连接某个 TCP 端口；无法连接时以退出码 1 结束。',
    scenes: [SCENES.network.id],
    script: checkPort,
    timeout: 60,
    parameters: [
      {
        name: 'host',
        default: '127.0.0.1',
        description: 'Host name or IP address to connect to.',
        test: matches(/^[A-Za-z0-9:][A-Za-z0-9.:-]{0,252}$/),
        rule: 'a host name or an IP address',
      },
      { name: 'port', description: 'The TCP port.', ...wholeNumber(1, 65535) },
      seconds('timeout', '5', 'Seconds to wait for the connection.'),
    ],
  },
  {
    id: 'cmd-b0a2ayan',
    name: 'TAT_CheckHttp',
    description:
      'Requests a URL from the instance and checks the HTTP status; exits 1 on another status or no answer.',
    descriptionZh: '从实例请求一个 URL 并检查 HTTP 状态码；状态码不符或无响应时以退出码 1 结束。',
    scenes: [SCENES.network.id],
    script: checkHttp,
    timeout: 60,
    parameters: [
      {
        name: 'url',
        description: 'The http:// or https:// URL (redirects are not followed).',
        test: matches(/^https?:\/\/[A-Za-z0-9._~:/?#@!$&()*+,;=%[\]-]{1,2040}$/),
        rule: 'an http:// or https:// URL without spaces or quotes',
      },
      {
        name: 'expectStatus',
        default: '200',
        description: 'The accepted status codes, separated by commas; x is any digit (2xx).',
        test: matches(/^[1-5][0-9x]{2}(,[1-5][0-9x]{2}){0,19}$/),
        rule: 'status codes like 200, 200,301 or 2xx',
      },
      seconds('timeout', '10', 'Seconds the whole request may take.'),
    ],
  },
];

const byId = new Map(PUBLIC_COMMANDS.map((c) => [c.id, c]));

export function publicCommand(id: string): PublicCommand | undefined {
  return byId.get(id);
}

export const PUBLIC_COMMAND_IDS: readonly string[] = PUBLIC_COMMANDS.map((c) => c.id);
