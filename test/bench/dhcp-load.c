/*
 * Benchmark helper: a DHCPv4 load generator, much lighter than perfdhcp
 * under emulation, so that the server rather than the client side sets the
 * rate.
 *
 *   dhcp-load [-x] IFNAME K CLIENTS WINDOW SECS [RATE]
 *
 * Plays CLIENTS clients (MACs 00:0c:K:00:hi:lo) from a UDP socket on port
 * 68 bound to IFNAME. Each exchange is a full DORA (DISCOVER, OFFER,
 * REQUEST with the offer's server id and address, ACK) with the broadcast
 * flag set; at most WINDOW are in flight. Without RATE (or 0) it runs
 * closed loop: a finished exchange starts the next one at once. With RATE
 * it runs open loop, as perfdhcp does: RATE exchanges start per second,
 * as long as fewer than WINDOW are in flight. A finished client goes to
 * the back of the queue, so every client keeps coming back for its
 * address. An exchange with no reply within 1 s counts as a drop and its
 * client starts over. With -x (churn) a client RELEASEs its address at once
 * after its ACK: with many CLIENTS nearly every exchange is a new device
 * that comes and goes, and the pool never runs out. After SECS seconds
 * prints one line:
 *
 *   completed=N secs=S rate=R discover=N offer=N request=N ack=N nak=N
 *   drops_offer=N drops_ack=N release=N ignored=N skipped=N
 *
 * (drops_offer: DISCOVERs with no OFFER in time, drops_ack: REQUESTs with
 * no ACK or NAK; skipped: exchanges due in open loop that found the window
 * full; those in flight at the end are in neither).
 *
 * Built by the benchmark scripts in the guest: cc -O2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BOOTP_LEN 236
#define MSG_LEN 300		/* BOOTP's minimum message */
#define MAX_CLIENTS 65536
#define BATCH 64
#define TIMEOUT_NS 1000000000LL

enum phase { IDLE, WAIT_OFFER, WAIT_ACK };

struct client {
	uint8_t mac[6];
	uint8_t phase;
	uint16_t gen;		/* low half of the xid: a stale reply is ignored */
	uint8_t server_id[4];	/* the OFFER's, for the RELEASE */
	int64_t sent_ns;
	int next;		/* idle queue */
};

static struct client *clients;
static int idle_head = -1, idle_tail = -1;
static unsigned long long n_discover, n_offer, n_request, n_ack, n_nak, n_drops_offer, n_drops_ack, n_release,
	n_ignored, n_completed, n_skipped;

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void idle_push(int i)
{
	clients[i].phase = IDLE;
	clients[i].next = -1;
	if (idle_tail < 0)
		idle_head = i;
	else
		clients[idle_tail].next = i;
	idle_tail = i;
}

static int idle_pop(void)
{
	int i = idle_head;

	if (i >= 0) {
		idle_head = clients[i].next;
		if (idle_head < 0)
			idle_tail = -1;
	}
	return i;
}

/* Outgoing messages, sent in batches. */
static uint8_t out_buf[BATCH][MSG_LEN];
static struct iovec out_iov[BATCH];
static struct mmsghdr out_msg[BATCH];
static int out_n;
static struct sockaddr_in server_addr;
static int sock;

static void flush(void)
{
	int done = 0, r;

	while (done < out_n) {
		r = sendmmsg(sock, out_msg + done, out_n - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				struct pollfd p = { .fd = sock, .events = POLLOUT };

				poll(&p, 1, 10);
				continue;
			}
			perror("dhcp-load: sendmmsg");
			exit(1);
		}
		done += r;
	}
	out_n = 0;
}

static uint8_t *message(int i, uint8_t type)
{
	uint8_t *m;
	uint32_t xid = ((uint32_t)i << 16) | clients[i].gen;

	if (out_n == BATCH)
		flush();
	m = out_buf[out_n++];
	memset(m, 0, MSG_LEN);
	m[0] = 1;		/* BOOTREQUEST */
	m[1] = 1;		/* Ethernet */
	m[2] = 6;
	xid = htonl(xid);
	memcpy(m + 4, &xid, 4);
	m[10] = 0x80;		/* broadcast flag */
	memcpy(m + 28, clients[i].mac, 6);
	memcpy(m + BOOTP_LEN, "\x63\x82\x53\x63", 4);
	m[240] = 53;
	m[241] = 1;
	m[242] = type;
	return m + 243;
}

static void send_discover(int i, int64_t now)
{
	uint8_t *o;

	clients[i].gen++;
	o = message(i, 1);
	memcpy(o, "\x37\x02\x01\x03\xff", 5);	/* parameter list: mask, router */
	clients[i].phase = WAIT_OFFER;
	clients[i].sent_ns = now;
	n_discover++;
}

static void send_request(int i, const uint8_t server_id[4], const uint8_t yiaddr[4], int64_t now)
{
	uint8_t *o = message(i, 3);

	memcpy(clients[i].server_id, server_id, 4);
	o[0] = 54;
	o[1] = 4;
	memcpy(o + 2, server_id, 4);
	o[6] = 50;
	o[7] = 4;
	memcpy(o + 8, yiaddr, 4);
	o[12] = 255;
	clients[i].phase = WAIT_ACK;
	clients[i].sent_ns = now;
	n_request++;
}

/* RELEASE of the address just bound (ciaddr), to the server that gave it. */
static void send_release(int i, const uint8_t yiaddr[4])
{
	uint8_t *o = message(i, 7);

	memcpy(o - 243 + 12, yiaddr, 4);	/* ciaddr */
	o[0] = 54;
	o[1] = 4;
	memcpy(o + 2, clients[i].server_id, 4);
	o[6] = 255;
	n_release++;
}

/* Option CODE's value in a reply of LEN bytes, or NULL; bounds-checked. */
static const uint8_t *option(const uint8_t *m, size_t len, uint8_t code, uint8_t want_len)
{
	size_t p = 240;

	while (p < len) {
		uint8_t c = m[p];

		if (c == 255)
			break;
		if (c == 0) {
			p++;
			continue;
		}
		if (p + 2 > len || p + 2 + m[p + 1] > len)
			break;
		if (c == code)
			return m[p + 1] == want_len ? m + p + 2 : NULL;
		p += 2 + m[p + 1];
	}
	return NULL;
}

static int closed_loop = 1, churn, in_flight, max_in_flight;

/* Starts the next client's exchange, if the window has room; 0 if not. */
static int start_next(int64_t now)
{
	int i;

	if (in_flight >= max_in_flight || (i = idle_pop()) < 0)
		return 0;
	in_flight++;
	send_discover(i, now);
	return 1;
}

static void reply(const uint8_t *m, size_t len, int n_clients, int64_t now)
{
	const uint8_t *type, *sid;
	uint32_t xid;
	int i;

	if (len < 244 || m[0] != 2 || memcmp(m + BOOTP_LEN, "\x63\x82\x53\x63", 4)) {
		n_ignored++;
		return;
	}
	memcpy(&xid, m + 4, 4);
	xid = ntohl(xid);
	i = xid >> 16;
	type = option(m, len, 53, 1);
	if (i >= n_clients || (xid & 0xffff) != clients[i].gen || !type ||
	    memcmp(m + 28, clients[i].mac, 6)) {
		n_ignored++;
		return;
	}
	if (clients[i].phase == WAIT_OFFER && *type == 2) {
		sid = option(m, len, 54, 4);
		if (!sid) {
			n_ignored++;
			return;
		}
		n_offer++;
		send_request(i, sid, m + 16, now);
	} else if (clients[i].phase == WAIT_ACK && (*type == 5 || *type == 6)) {
		if (*type == 5) {
			n_ack++;
			n_completed++;
			if (churn)
				send_release(i, m + 16);
		} else {
			n_nak++;
		}
		idle_push(i);
		in_flight--;
		if (closed_loop)
			start_next(now);
	} else {
		n_ignored++;
	}
}

int main(int argc, char **argv)
{
	static uint8_t in_buf[BATCH][1500];
	static struct iovec in_iov[BATCH];
	static struct mmsghdr in_msg[BATCH];
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(68) };
	int n_clients, window, secs, k, i, one = 1, r;
	long rate = 0;
	unsigned long long started = 0;
	int64_t start, end, now, last_scan;

	if (argc > 1 && !strcmp(argv[1], "-x")) {
		churn = 1;
		argc--;
		argv++;
	}
	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: dhcp-load [-x] IFNAME K CLIENTS WINDOW SECS [RATE]\n");
		return 2;
	}
	k = atoi(argv[2]);
	n_clients = atoi(argv[3]);
	window = atoi(argv[4]);
	secs = atoi(argv[5]);
	if (argc == 7)
		rate = atol(argv[6]);
	if (k < 0 || k > 255 || n_clients < 1 || n_clients > MAX_CLIENTS || window < 1 ||
	    window > n_clients || secs < 1 || rate < 0 || rate > 10000000) {
		fprintf(stderr, "dhcp-load: K 0..255, CLIENTS 1..%d, WINDOW 1..CLIENTS, SECS >= 1, RATE >= 0\n",
			MAX_CLIENTS);
		return 2;
	}
	closed_loop = rate == 0;
	clients = calloc(n_clients, sizeof(*clients));
	if (!clients)
		return 1;
	for (i = 0; i < n_clients; i++) {
		memcpy(clients[i].mac, "\x00\x0c", 2);
		clients[i].mac[2] = k;
		clients[i].mac[4] = i >> 8;
		clients[i].mac[5] = i;
		idle_push(i);
	}

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (sock < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(sock, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) ||
	    setsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, argv[1], strlen(argv[1])) ||
	    bind(sock, (struct sockaddr *)&local, sizeof(local))) {
		perror("dhcp-load: socket");
		return 1;
	}
	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons(67);
	server_addr.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	for (i = 0; i < BATCH; i++) {
		out_iov[i] = (struct iovec){ out_buf[i], MSG_LEN };
		out_msg[i].msg_hdr = (struct msghdr){ .msg_name = &server_addr,
			.msg_namelen = sizeof(server_addr), .msg_iov = &out_iov[i], .msg_iovlen = 1 };
		in_iov[i] = (struct iovec){ in_buf[i], sizeof(in_buf[i]) };
		in_msg[i].msg_hdr = (struct msghdr){ .msg_iov = &in_iov[i], .msg_iovlen = 1 };
	}

	start = last_scan = now_ns();
	end = start + (int64_t)secs * 1000000000LL;
	max_in_flight = window;
	if (closed_loop)
		for (i = 0; i < window; i++)
			start_next(start);
	flush();
	for (now = start; now < end; now = now_ns()) {
		struct pollfd p = { .fd = sock, .events = POLLIN };

		poll(&p, 1, closed_loop ? 10 : 1);
		now = now_ns();
		if (!closed_loop) {
			/* Exchanges due by now, as long as clients are free. */
			unsigned long long due = (unsigned long long)((now - start) / 1000) * rate / 1000000;

			/* Exchanges that find the window full are not made up for
			 * later: the offered rate is what was due, not a backlog. */
			for (; started < due; started++)
				n_skipped += !start_next(now);
			flush();
		}
		while ((r = recvmmsg(sock, in_msg, BATCH, 0, NULL)) > 0) {
			for (i = 0; i < r; i++)
				reply(in_buf[i], in_msg[i].msg_len, n_clients, now);
			flush();
			if (r < BATCH)
				break;
		}
		if (now - last_scan >= TIMEOUT_NS / 10) {
			/* Exchanges past their time: drops; their clients start over. */
			for (i = 0; i < n_clients; i++)
				if (clients[i].phase != IDLE && now - clients[i].sent_ns >= TIMEOUT_NS) {
					if (clients[i].phase == WAIT_OFFER)
						n_drops_offer++;
					else
						n_drops_ack++;
					send_discover(i, now);
				}
			flush();
			last_scan = now;
		}
	}
	printf("completed=%llu secs=%.3f rate=%.1f discover=%llu offer=%llu request=%llu ack=%llu nak=%llu drops_offer=%llu drops_ack=%llu release=%llu ignored=%llu skipped=%llu\n",
	       n_completed, (now - start) / 1e9, n_completed / ((now - start) / 1e9), n_discover,
	       n_offer, n_request, n_ack, n_nak, n_drops_offer, n_drops_ack, n_release, n_ignored, n_skipped);
	return 0;
}
