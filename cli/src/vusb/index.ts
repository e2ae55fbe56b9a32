// The vusb public surface, for the `usbvnet vusb ...` commands and tests.

export {UsbipServer, USBIP_DEFAULT_PORT, silentLogger} from './usbip/server.js'
export type {ExportedDeviceStatus, UsbipServerOptions, VusbLogger} from './usbip/server.js'
export {ImportedDevice, UsbipClientError, importRemoteDevice, listRemoteDevices} from './usbip/client.js'
export type {SubmitOptions, SubmittedUrb} from './usbip/client.js'
export {ProtocolError, UsbipSpeed, OpStatus, UrbStatus} from './usbip/protocol.js'
export type {DevlistEntry, UsbDeviceInfo} from './usbip/protocol.js'
export {UsbDevice} from './usb/device.js'
export type {DeviceIdentity, UsbFunction, UsbSpeedName} from './usb/device.js'
export {CdcEcmFunction} from './functions/cdc-ecm.js'
export {CdcNcmFunction} from './functions/cdc-ncm.js'
export type {CdcNcmOptions} from './functions/cdc-ncm.js'
export type {CdcNetworkOptions, FrameHandler, FramePort} from './functions/cdc-net.js'
export {CdcAcmFunction} from './functions/cdc-acm.js'
export type {ControlLines, LineCoding, SerialHandler, SerialPort} from './functions/cdc-acm.js'
export {PingResponder, SerialEcho} from './functions/responders.js'
export {
	VUSB_DEVICE_SCHEMA_PATH,
	buildDevice,
	loadDeviceConfigFile,
	parseDeviceConfigText,
	validateDeviceConfig,
} from './device-config.js'
export type {FunctionConfig, FunctionHandlers, VusbDeviceConfig} from './device-config.js'
