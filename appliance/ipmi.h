/*
 * ipmi.h - numbers from the IPMI v2.0 specification (rev 1.1): network
 * functions, commands, completion codes, privilege levels, RMCP+ payload
 * types and status codes. Names follow the spec.
 */
#ifndef METALBMC_IPMI_H
#define METALBMC_IPMI_H

/* Network functions (table 5-1), request values. */
#define NETFN_CHASSIS   0x00
#define NETFN_BRIDGE    0x02
#define NETFN_SE        0x04
#define NETFN_APP       0x06
#define NETFN_FIRMWARE  0x08
#define NETFN_STORAGE   0x0A
#define NETFN_TRANSPORT 0x0C
#define NETFN_GROUP     0x2C
#define NETFN_OEM       0x2E

/* Completion codes (table 5-2). */
#define CC_OK                  0x00
#define CC_NODE_BUSY           0xC0
#define CC_INVALID_COMMAND     0xC1
#define CC_INVALID_FOR_LUN     0xC2
#define CC_TIMEOUT             0xC3
#define CC_OUT_OF_SPACE        0xC4
#define CC_RESERVATION         0xC5
#define CC_DATA_TRUNCATED      0xC6
#define CC_DATA_LENGTH         0xC7 /* request data length invalid */
#define CC_DATA_TOO_LONG       0xC8
#define CC_PARAM_OUT_OF_RANGE  0xC9
#define CC_CANT_RETURN_BYTES   0xCA
#define CC_NOT_PRESENT         0xCB /* requested sensor, data or record not present */
#define CC_INVALID_DATA_FIELD  0xCC
#define CC_ILLEGAL_FOR_SENSOR  0xCD
#define CC_NO_RESPONSE         0xCE
#define CC_DUPLICATE_REQUEST   0xCF
#define CC_SDR_UPDATE_MODE     0xD0
#define CC_FIRMWARE_UPDATE     0xD1
#define CC_BMC_INIT            0xD2
#define CC_DESTINATION_UNAVAIL 0xD3
#define CC_INSUFFICIENT_PRIV   0xD4
#define CC_NOT_SUPPORTED_NOW   0xD5 /* not supported in present state */
#define CC_SUBFUNCTION_DISABLED 0xD6
#define CC_UNSPECIFIED         0xFF

/* Privilege levels (section 6.8). */
#define PRIV_NONE     0x00
#define PRIV_CALLBACK 0x01
#define PRIV_USER     0x02
#define PRIV_OPERATOR 0x03
#define PRIV_ADMIN    0x04
#define PRIV_OEM      0x05

/* IPMI v1.5 authentication types (table 13-9). */
#define AUTHTYPE_NONE     0x00
#define AUTHTYPE_MD2      0x01
#define AUTHTYPE_MD5      0x02
#define AUTHTYPE_PASSWORD 0x04
#define AUTHTYPE_OEM      0x05
#define AUTHTYPE_RMCPP    0x06

/* RMCP (ASF 2.0, section 13.1) */
#define RMCP_VERSION       0x06
#define RMCP_SEQ_NO_ACK    0xFF
#define RMCP_CLASS_ASF     0x06
#define RMCP_CLASS_IPMI    0x07
#define RMCP_CLASS_ACK     0x80
#define ASF_IANA           4542
#define ASF_TYPE_PING      0x80
#define ASF_TYPE_PONG      0x40

/* RMCP+ payload types (table 13-16). */
#define PAYLOAD_IPMI         0x00
#define PAYLOAD_SOL          0x01
#define PAYLOAD_OEM          0x02
#define PAYLOAD_OPEN_REQ     0x10
#define PAYLOAD_OPEN_RSP     0x11
#define PAYLOAD_RAKP1        0x12
#define PAYLOAD_RAKP2        0x13
#define PAYLOAD_RAKP3        0x14
#define PAYLOAD_RAKP4        0x15
#define PAYLOAD_ENCRYPTED    0x80
#define PAYLOAD_AUTHENTICATED 0x40

/* RMCP+ and RAKP message status codes (table 13-15). */
#define RMCPP_OK                    0x00
#define RMCPP_NO_RESOURCES          0x01
#define RMCPP_INVALID_SESSION_ID    0x02
#define RMCPP_INVALID_PAYLOAD       0x03
#define RMCPP_INVALID_AUTH_ALG      0x04
#define RMCPP_INVALID_INTEG_ALG     0x05
#define RMCPP_NO_MATCHING_AUTH      0x06
#define RMCPP_NO_MATCHING_INTEG     0x07
#define RMCPP_INACTIVE_SESSION      0x08
#define RMCPP_INVALID_ROLE          0x09
#define RMCPP_UNAUTHORIZED_ROLE     0x0A
#define RMCPP_NO_RESOURCES_ROLE     0x0B
#define RMCPP_INVALID_NAME_LENGTH   0x0C
#define RMCPP_UNAUTHORIZED_NAME     0x0D
#define RMCPP_UNAUTHORIZED_GUID     0x0E
#define RMCPP_INVALID_ICV           0x0F
#define RMCPP_INVALID_CONF_ALG      0x10
#define RMCPP_NO_CIPHER_SUITE       0x11
#define RMCPP_ILLEGAL_PARAMETER     0x12

/* Addresses */
#define BMC_SLAVE_ADDR   0x20
#define IPMI_CHANNEL_LAN 0x01 /* the one LAN channel every persona has */
#define IPMI_CHANNEL_CURRENT 0x0E

/* App commands */
#define CMD_GET_DEVICE_ID           0x01
#define CMD_COLD_RESET              0x02
#define CMD_WARM_RESET              0x03
#define CMD_GET_SELF_TEST           0x04
#define CMD_SET_ACPI_POWER          0x06
#define CMD_GET_ACPI_POWER          0x07
#define CMD_GET_DEVICE_GUID         0x08
#define CMD_RESET_WATCHDOG          0x22
#define CMD_SET_WATCHDOG            0x24
#define CMD_GET_WATCHDOG            0x25
#define CMD_SET_GLOBAL_ENABLES      0x2E
#define CMD_GET_GLOBAL_ENABLES      0x2F
#define CMD_CLEAR_MSG_FLAGS         0x30
#define CMD_GET_MSG_FLAGS           0x31
#define CMD_GET_SYSTEM_GUID         0x37
#define CMD_GET_CHANNEL_AUTH_CAPS   0x38
#define CMD_GET_SESSION_CHALLENGE   0x39
#define CMD_ACTIVATE_SESSION        0x3A
#define CMD_SET_SESSION_PRIV        0x3B
#define CMD_CLOSE_SESSION           0x3C
#define CMD_GET_SESSION_INFO        0x3D
#define CMD_GET_AUTHCODE            0x3F
#define CMD_SET_CHANNEL_ACCESS      0x40
#define CMD_GET_CHANNEL_ACCESS      0x41
#define CMD_GET_CHANNEL_INFO        0x42
#define CMD_SET_USER_ACCESS         0x43
#define CMD_GET_USER_ACCESS         0x44
#define CMD_SET_USER_NAME           0x45
#define CMD_GET_USER_NAME           0x46
#define CMD_SET_USER_PASSWORD       0x47
#define CMD_ACTIVATE_PAYLOAD        0x48
#define CMD_DEACTIVATE_PAYLOAD      0x49
#define CMD_GET_PAYLOAD_STATUS      0x4A
#define CMD_GET_PAYLOAD_INSTANCE    0x4B
#define CMD_GET_CHANNEL_PAYLOAD_SUPPORT 0x4E
#define CMD_GET_CHANNEL_PAYLOAD_VERSION 0x4F
#define CMD_GET_CHANNEL_CIPHER_SUITES 0x54
#define CMD_GET_SYSTEM_INFO         0x59

/* Chassis commands */
#define CMD_GET_CHASSIS_CAPS        0x00
#define CMD_GET_CHASSIS_STATUS      0x01
#define CMD_CHASSIS_CONTROL         0x02
#define CMD_CHASSIS_RESET           0x03
#define CMD_CHASSIS_IDENTIFY        0x04
#define CMD_SET_CHASSIS_CAPS        0x05
#define CMD_SET_POWER_RESTORE       0x06
#define CMD_GET_RESTART_CAUSE       0x07
#define CMD_SET_BOOT_OPTIONS        0x08
#define CMD_GET_BOOT_OPTIONS        0x09
#define CMD_SET_FRONT_PANEL         0x0A
#define CMD_SET_POWER_CYCLE_INTERVAL 0x0B
#define CMD_GET_POH_COUNTER         0x0F

/* Storage commands */
#define CMD_GET_FRU_INFO            0x10
#define CMD_READ_FRU                0x11
#define CMD_WRITE_FRU               0x12
#define CMD_GET_SDR_REPO_INFO       0x20
#define CMD_GET_SDR_REPO_ALLOC      0x21
#define CMD_RESERVE_SDR_REPO        0x22
#define CMD_GET_SDR                 0x23
#define CMD_GET_SEL_INFO            0x40
#define CMD_GET_SEL_ALLOC           0x41
#define CMD_RESERVE_SEL             0x42
#define CMD_GET_SEL_ENTRY           0x43
#define CMD_ADD_SEL_ENTRY           0x44
#define CMD_DELETE_SEL_ENTRY        0x46
#define CMD_CLEAR_SEL               0x47
#define CMD_GET_SEL_TIME            0x48
#define CMD_SET_SEL_TIME            0x49
#define CMD_GET_SEL_UTC_OFFSET      0x5C

/* Sensor/event commands */
#define CMD_GET_DEVICE_SDR_INFO     0x20
#define CMD_GET_DEVICE_SDR          0x21
#define CMD_RESERVE_DEVICE_SDR      0x22
#define CMD_GET_SENSOR_READING      0x2D

/* Transport commands */
#define CMD_SET_LAN_CONFIG          0x01
#define CMD_GET_LAN_CONFIG          0x02
#define CMD_SOL_ACTIVATING          0x20
#define CMD_SET_SOL_CONFIG          0x21
#define CMD_GET_SOL_CONFIG          0x22

#endif
