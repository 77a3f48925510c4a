import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../aws-config';
import { ScaledClock } from '../metrics/clock';
import { LocalCloudWatch } from '../metrics/local-cloudwatch';
import type { LocalStack } from '../stack';
import { alarmDefinitions } from './definitions';
import { AlarmEngine, type AlarmTransition } from './engine';
import { Pager, TopicPolicyCheck, type DeliveredNotification } from './notifier';

/** The local stack's CloudWatch: its metrics, its alarms and who they page. */
export interface LocalMonitoring {
  clock: ScaledClock;
  cloudWatch: LocalCloudWatch;
  alarms: AlarmEngine;
  pager: Pager;
  stop(): Promise<void>;
}

export interface MonitoringOptions {
  /** Clock speed: 1 is real time; drills run at 30 (a 60 s period in 2 s). @default 1 */
  speed?: number;
  onTransition?: (transition: AlarmTransition) => void;
  onNotification?: (notification: DeliveredNotification) => void;
  /** Record metrics but leave the alarms unevaluated until `alarms.start()`. @default false */
  deferAlarms?: boolean;
}

/**
 * Attaches CloudWatch to a running local stack (started with `emitMetrics: true`): records its
 * metrics, evaluates every alarm of its template on them, and subscribes a pager to every topic
 * the alarms notify, so that a notification is seen only when it went through the topic.
 */
export async function startMonitoring(
  stack: LocalStack,
  options: MonitoringOptions = {},
): Promise<LocalMonitoring> {
  const clock = new ScaledClock(options.speed ?? 1);
  const cloudWatch = new LocalCloudWatch(clock).attach(stack);
  const definitions = alarmDefinitions(stack.templates, LOCAL_REGION, LOCAL_ACCOUNT_ID);
  const topics = [
    ...new Set(
      definitions
        .flatMap((alarm) => [...alarm.alarmActions, ...alarm.okActions])
        .filter((arn) => arn.startsWith('arn:aws:sns:')),
    ),
  ];
  const pager = new Pager(stack.aws);
  await pager.subscribe(topics);
  const alarms = new AlarmEngine({
    alarms: definitions,
    store: cloudWatch.store,
    clock,
    aws: stack.aws,
    policy: new TopicPolicyCheck(stack.templates, LOCAL_REGION, LOCAL_ACCOUNT_ID),
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
  });
  if (options.onTransition) alarms.onTransition(options.onTransition);
  if (!options.deferAlarms) alarms.start();
  let collecting = Promise.resolve();
  const poller = setInterval(() => {
    collecting = collecting
      .then(() => pager.collect(clock.now()))
      .then((fresh) => {
        for (const notification of fresh) options.onNotification?.(notification);
      })
      .catch(() => undefined);
  }, 250);
  return {
    clock,
    cloudWatch,
    alarms,
    pager,
    async stop() {
      clearInterval(poller);
      await alarms.stop();
      await collecting;
      await pager.collect(clock.now()).catch(() => undefined);
      cloudWatch.close();
    },
  };
}
