/*
 * locks.h — every PostgreSQL advisory lock key lookout takes, in one place,
 * so that no two uses can collide (docs/architecture.md).  The keys spell
 * "look" and a short name in ASCII.
 */
#ifndef LO_STORE_LOCKS_H
#define LO_STORE_LOCKS_H

#define LO_LOCK_MIGRATE         0x6c6f6f6b6d696701LL /* "lookmig": migrations, session lock */
#define LO_LOCK_PARTITIONS      0x6c6f6f6b70617201LL /* "lookpar": creating partitions, transaction lock */
#define LO_LOCK_TASK_PARTITIONS 0x6c6f6f6b74706101LL /* "looktpa": the partitions task's election */
#define LO_LOCK_TASK_ALERTS     0x6c6f6f6b74616c01LL /* "looktal": the alert evaluator's election */
#define LO_LOCK_TASK_ROTATE     0x6c6f6f6b74726f01LL /* "looktro": the cold tier's rotation (task and CLI) */
#define LO_LOCK_TASK_TEST       0x6c6f6f6b74747301LL /* "looktts": the scheduler's tests */

#endif
