/* The OCSF 1.8.0 vocabulary trainguard writes: every class, activity,
 * outcome id and caption, the schema version, the profiles and the product,
 * in one place. The record builder (event-record.c) and the guard's fallback
 * line (guard.c) both take their numbers and words from here, and the
 * project's own check (tests/ocsf/) holds the same facts from the schema's
 * side, so a change here that breaks OCSF fails a test. Ids are enums (they
 * go into integers), captions string literals (they go into string literals
 * of the fallback line as well as into jansson strings). */
#ifndef TG_OCSF_H
#define TG_OCSF_H

#define TG_OCSF_VERSION  "1.8.0"
#define TG_OCSF_PRODUCT  "trainguard"
#define TG_OCSF_VENDOR   "trainguard"
#define TG_OCSF_LOG_NAME "trainguard"
/* metadata.profiles, in the order they are written. */
#define TG_OCSF_PROFILE_1 "security_control"
#define TG_OCSF_PROFILE_2 "datetime"

/* Category 1, System Activity: the only one our classes belong to. */
enum { TG_OCSF_CATEGORY = 1 };
#define TG_OCSF_CATEGORY_NAME "System Activity"

enum tg_ocsf_class {
	TG_OCSF_FILE_ACTIVITY = 1001,
	TG_OCSF_PROCESS_ACTIVITY = 1007,
	TG_OCSF_EVENT_LOG_ACTIVITY = 1008,
};
#define TG_OCSF_FILE_ACTIVITY_NAME      "File System Activity"
#define TG_OCSF_PROCESS_ACTIVITY_NAME   "Process Activity"
#define TG_OCSF_EVENT_LOG_ACTIVITY_NAME "Event Log Activity"

/* activity_id of File System Activity (1001). 99, Other, is shared by every
 * class; a record of activity 99 names the libc call as its activity. */
enum tg_ocsf_file_activity {
	TG_OCSF_FILE_CREATE = 1,
	TG_OCSF_FILE_READ = 2,
	TG_OCSF_FILE_UPDATE = 3,
	TG_OCSF_FILE_DELETE = 4,
	TG_OCSF_FILE_RENAME = 5,
	TG_OCSF_FILE_SET_ATTRIBUTES = 6,
	TG_OCSF_FILE_OPEN = 14,
	TG_OCSF_OTHER = 99,
};
#define TG_OCSF_FILE_CREATE_NAME         "Create"
#define TG_OCSF_FILE_READ_NAME           "Read"
#define TG_OCSF_FILE_UPDATE_NAME         "Update"
#define TG_OCSF_FILE_DELETE_NAME         "Delete"
#define TG_OCSF_FILE_RENAME_NAME         "Rename"
#define TG_OCSF_FILE_SET_ATTRIBUTES_NAME "Set Attributes"
#define TG_OCSF_FILE_OPEN_NAME           "Open"
#define TG_OCSF_OTHER_NAME               "Other"

/* activity_id of Event Log Activity (1008): the guard starts and stops
 * logging for a process. */
enum { TG_OCSF_LOG_START = 6, TG_OCSF_LOG_STOP = 7 };
#define TG_OCSF_LOG_START_NAME "Start"
#define TG_OCSF_LOG_STOP_NAME  "Stop"

/* activity_id of Process Activity (1007). */
enum { TG_OCSF_PROCESS_LAUNCH = 1, TG_OCSF_PROCESS_TERMINATE = 2 };
#define TG_OCSF_PROCESS_LAUNCH_NAME    "Launch"
#define TG_OCSF_PROCESS_TERMINATE_NAME "Terminate"

/* type_uid: the class and the activity in one number (1001 14 -> 100114). */
#define TG_OCSF_TYPE_UID(cls, activity) ((long long)(cls)*100 + (activity))

/* launch_type_id of Process Activity. */
enum { TG_OCSF_LAUNCH_SPAWN = 1, TG_OCSF_LAUNCH_FORK = 2, TG_OCSF_LAUNCH_EXEC = 3 };
#define TG_OCSF_LAUNCH_SPAWN_NAME "Spawn"
#define TG_OCSF_LAUNCH_FORK_NAME  "Fork"
#define TG_OCSF_LAUNCH_EXEC_NAME  "Exec"

/* severity_id, action_id, disposition_id (security_control), status_id. */
enum {
	TG_OCSF_SEVERITY_INFORMATIONAL = 1,
	TG_OCSF_SEVERITY_LOW = 2,
	TG_OCSF_SEVERITY_MEDIUM = 3,
	TG_OCSF_SEVERITY_HIGH = 4,
	TG_OCSF_SEVERITY_CRITICAL = 5,
};
#define TG_OCSF_SEVERITY_INFORMATIONAL_NAME "Informational"
#define TG_OCSF_SEVERITY_LOW_NAME           "Low"
#define TG_OCSF_SEVERITY_MEDIUM_NAME        "Medium"
#define TG_OCSF_SEVERITY_HIGH_NAME          "High"
#define TG_OCSF_SEVERITY_CRITICAL_NAME      "Critical"

enum { TG_OCSF_ACTION_ALLOWED = 1, TG_OCSF_ACTION_DENIED = 2 };
#define TG_OCSF_ACTION_ALLOWED_NAME "Allowed"
#define TG_OCSF_ACTION_DENIED_NAME  "Denied"

enum {
	TG_OCSF_DISPOSITION_ALLOWED = 1,
	TG_OCSF_DISPOSITION_BLOCKED = 2,
	TG_OCSF_DISPOSITION_DETECTED = 15,
};
#define TG_OCSF_DISPOSITION_ALLOWED_NAME  "Allowed"
#define TG_OCSF_DISPOSITION_BLOCKED_NAME  "Blocked"
#define TG_OCSF_DISPOSITION_DETECTED_NAME "Detected"
/* An on_deny = "kill": disposition 99 (Other) with this caption. */
#define TG_OCSF_DISPOSITION_KILLED_NAME "Killed"

enum { TG_OCSF_STATUS_SUCCESS = 1, TG_OCSF_STATUS_FAILURE = 2 };
#define TG_OCSF_STATUS_SUCCESS_NAME "Success"
#define TG_OCSF_STATUS_FAILURE_NAME "Failure"

/* file.type_id: nothing is stat()ed, so a file is Unknown unless the call
 * itself names a folder. actor.process.file is the running program. */
enum { TG_OCSF_FILE_UNKNOWN = 0, TG_OCSF_FILE_REGULAR = 1, TG_OCSF_FILE_FOLDER = 2 };
#define TG_OCSF_FILE_UNKNOWN_NAME "Unknown"
#define TG_OCSF_FILE_REGULAR_NAME "Regular File"
#define TG_OCSF_FILE_FOLDER_NAME  "Folder"

/* device.type_id and observables[].type_id. */
enum { TG_OCSF_DEVICE_SERVER = 1 };
#define TG_OCSF_DEVICE_SERVER_NAME "Server"
enum { TG_OCSF_OBSERVABLE_FILE_PATH = 45 };
#define TG_OCSF_OBSERVABLE_FILE_PATH_NAME "File Path"

/* file.hashes[].algorithm_id (the fingerprint object). */
enum { TG_OCSF_FINGERPRINT_SHA256 = 3 };
#define TG_OCSF_FINGERPRINT_SHA256_NAME "SHA-256"

#endif
