// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "uvn_bridge.h"
#include "unit.h"

static struct uvn_fdb f;
static const uint8_t host[6] = { 0x02, 0xaa, 0, 0, 0, 1 };
static const uint8_t dev0[6] = { 0x02, 0xd0, 0, 0, 0, 0 };
static const uint8_t dev1[6] = { 0x02, 0xd0, 0, 0, 0, 1 };
static const uint8_t stranger[6] = { 0x02, 0xee, 0, 0, 0, 9 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint32_t used = 0x7;	/* slots 0, 1, 2 */

static void setup(void)
{
	uvn_fdb_init(&f);
	uvn_fdb_learn(&f, dev0, 0, 1);
	uvn_fdb_learn(&f, dev1, 1, 1);
}

static void device_to_host(void)
{
	struct uvn_verdict v;

	setup();
	uvn_forward_from_slot(&f, used, UVN_MODE_BRIDGE, host, false, 0, host, &v);
	EXPECT(v.to_host && v.host_unicast);
	EXPECT_EQ(v.to_slots, 0);
}

static void broadcast_from_device(void)
{
	struct uvn_verdict v;

	setup();
	uvn_forward_from_slot(&f, used, UVN_MODE_BRIDGE, host, false, 1, bcast, &v);
	EXPECT(v.to_host && !v.host_unicast);
	EXPECT_EQ(v.to_slots, 0x5);
	uvn_forward_from_slot(&f, used, UVN_MODE_PRIVATE, host, false, 1, bcast, &v);
	EXPECT(v.to_host);
	EXPECT_EQ(v.to_slots, 0);
}

static void device_to_device_by_mode(void)
{
	struct uvn_verdict v;

	setup();
	uvn_forward_from_slot(&f, used, UVN_MODE_BRIDGE, host, false, 0, dev1, &v);
	EXPECT(!v.to_host);
	EXPECT_EQ(v.to_slots, 0x2);
	uvn_forward_from_slot(&f, used, UVN_MODE_PRIVATE, host, false, 0, dev1, &v);
	EXPECT(!v.to_host);
	EXPECT_EQ(v.to_slots, 0);
	/* Promiscuous host sees it, as a bridge's own port would. */
	uvn_forward_from_slot(&f, used, UVN_MODE_PRIVATE, host, true, 0, dev1, &v);
	EXPECT(v.to_host && !v.host_unicast);
}

static void unknown_unicast_floods_others(void)
{
	struct uvn_verdict v;

	setup();
	uvn_forward_from_slot(&f, used, UVN_MODE_BRIDGE, host, false, 2, stranger, &v);
	EXPECT_EQ(v.to_slots, 0x3);
	EXPECT(!v.to_host);
	/* Never hairpinned back to the slot it came from. */
	uvn_forward_from_slot(&f, used, UVN_MODE_BRIDGE, host, false, 0, dev0, &v);
	EXPECT_EQ(v.to_slots, 0);
}

static void host_to_devices(void)
{
	struct uvn_verdict v;

	setup();
	uvn_forward_from_host(&f, used, dev1, &v);
	EXPECT_EQ(v.to_slots, 0x2);
	uvn_forward_from_host(&f, used, bcast, &v);
	EXPECT_EQ(v.to_slots, used);
	uvn_forward_from_host(&f, used, stranger, &v);
	EXPECT_EQ(v.to_slots, used);
	/* A learned slot that is no longer in use gets nothing. */
	uvn_forward_from_host(&f, 0x1, dev1, &v);
	EXPECT_EQ(v.to_slots, 0);
}

static void source_checks(void)
{
	uint8_t zero[6] = { 0 };
	unsigned int idx;

	setup();
	EXPECT_EQ(uvn_check_source(&f, host, 0, dev0, &idx), UVN_SOURCE_KNOWN);
	EXPECT_EQ(uvn_check_source(&f, host, 0, dev1, &idx), UVN_SOURCE_SPOOF);
	EXPECT_EQ(uvn_check_source(&f, host, 0, host, &idx), UVN_SOURCE_SPOOF);
	EXPECT_EQ(uvn_check_source(&f, host, 0, stranger, &idx), UVN_SOURCE_NEW);
	EXPECT_EQ(uvn_check_source(&f, host, 0, bcast, &idx), UVN_SOURCE_INVALID);
	EXPECT_EQ(uvn_check_source(&f, host, 0, zero, &idx), UVN_SOURCE_INVALID);
}

static void config_checks(void)
{
	struct uvn_config c;
	const char *why = NULL;

	uvn_config_default(&c);
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);	/* no MAC yet */
	c.mac[0] = 0x02;
	c.mac[5] = 1;
	EXPECT_EQ(uvn_config_check(&c, &why), 0);
	c.mode = 2;
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);
	EXPECT(why && why[0] == 'm');
	c.mode = UVN_MODE_PRIVATE;
	c.nr_rules = 17;
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);
	c.nr_rules = 1;
	c.rules[0].action = 5;
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);
	c.rules[0].action = UVN_RULE_DENY;
	c.drivers = 0x10;
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);
	c.drivers = UVN_DRV_ALL;
	c.flags = 0x8;
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);
	c.flags = 0;
	c.mac[0] = 0x03;	/* multicast */
	EXPECT_EQ(uvn_config_check(&c, &why), -UVN_EINVAL);
}

static void match_rules(void)
{
	struct uvn_config c;

	uvn_config_default(&c);
	EXPECT_EQ(uvn_driver_bit("cdc_ncm"), UVN_DRV_CDC_NCM);
	EXPECT_EQ(uvn_driver_bit("cdc_ncmx"), 0);
	EXPECT_EQ(uvn_driver_bit("asix"), 0);
	EXPECT_EQ(uvn_config_match(&c, UVN_DRV_CDC_ETHER, 0x1d6b, 0x0104), 0);
	EXPECT_EQ(uvn_config_match(&c, 0, 0x1d6b, 0x0104), -UVN_ENOENT);
	c.drivers = UVN_DRV_CDC_NCM;
	EXPECT_EQ(uvn_config_match(&c, UVN_DRV_CDC_ETHER, 0x1d6b, 0x0104), -UVN_ENOENT);
	c.drivers = UVN_DRV_ALL;
	c.nr_rules = 2;
	c.rules[0] = (struct uvn_rule){ 0x1d6b, 0x0104, UVN_RULE_ALLOW };
	c.rules[1] = (struct uvn_rule){ 0x1d6b, 0, UVN_RULE_DENY };
	EXPECT_EQ(uvn_config_match(&c, UVN_DRV_CDC_ETHER, 0x1d6b, 0x0104), 0);
	EXPECT_EQ(uvn_config_match(&c, UVN_DRV_CDC_ETHER, 0x1d6b, 0x0105), -UVN_EPERM);
	EXPECT_EQ(uvn_config_match(&c, UVN_DRV_CDC_ETHER, 0x0525, 0xa4a2), 0);
}

static void stable_mac(void)
{
	const uint8_t id[] = "4c4c4544-0042-3510-8052-b4c04f4e3232";
	uint8_t a[6], b[6], c[6];

	uvn_mac_derive(id, sizeof(id) - 1, "usbvnet0", a);
	uvn_mac_derive(id, sizeof(id) - 1, "usbvnet0", b);
	uvn_mac_derive(id, sizeof(id) - 1, "usbvnet1", c);
	EXPECT(uvn_mac_equal(a, b));
	EXPECT(!uvn_mac_equal(a, c));
	EXPECT_EQ(a[0] & 0x03, 0x02);	/* locally administered, unicast */
	EXPECT_EQ(c[0] & 0x03, 0x02);
}

int main(void)
{
	RUN(device_to_host);
	RUN(broadcast_from_device);
	RUN(device_to_device_by_mode);
	RUN(unknown_unicast_floods_others);
	RUN(host_to_devices);
	RUN(source_checks);
	RUN(config_checks);
	RUN(match_rules);
	RUN(stable_mac);
	UNIT_EXIT();
}
