/*
 * store_node - which node (host) a store belongs to.
 *
 * Every sequence number a store hands out carries the node number in its
 * top 8 bits (node 0: the numbers of a single host, as before nodes
 * existed), and every event key carries it in the high byte of its order
 * field, so the records of many hosts never share a key. A store belongs
 * to one node, remembered in its meta database as "node" -> decimal; a
 * collector's store, which gathers the records of every node, holds "*".
 * A store written before node numbers existed holds records of node 0.
 */
#ifndef MTRACK_STORE_NODE_H
#define MTRACK_STORE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#define STORE_NODE_MAX		255
#define STORE_NODE_SHIFT	56	/* node bits in a sequence number */
#define STORE_NODE_ANY		(-1)	/* a collector's store: every node */

/* store_node_seq - the sequence number local of node node */
static inline uint64_t
store_node_seq(int node, uint64_t local)
{
	return (uint64_t)node << STORE_NODE_SHIFT | local;
}

/* store_node_of - the node that wrote a sequence number */
static inline int
store_node_of(uint64_t seq)
{
	return (int)(seq >> STORE_NODE_SHIFT);
}

/*
 * store_node_check - in the write transaction txn that opens a store:
 * claim the store for node (0..STORE_NODE_MAX, or STORE_NODE_ANY) in the
 * meta database, or refuse when it holds records of another node.
 * has_records: the store already holds messages, links or events.
 * 0, or -1 with the reason in err (the caller aborts txn).
 */
int	store_node_check(MDB_txn *txn, MDB_dbi meta, int has_records, int node,
	    char *err, size_t errlen);

#endif
