/*
 * store_node - the node a store belongs to (see store_node.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store_node.h"

/* store_node_put - remember the store's node */
static int
store_node_put(MDB_txn *txn, MDB_dbi meta, int node)
{
	MDB_val	k, v;
	char	num[8];

	k.mv_data = (void *)DB_META_NODE;
	k.mv_size = strlen(DB_META_NODE);
	if (node == STORE_NODE_ANY)
		snprintf(num, sizeof(num), "*");
	else
		snprintf(num, sizeof(num), "%d", node);
	v.mv_data = num;
	v.mv_size = strlen(num);
	return mdb_put(txn, meta, &k, &v, 0);
}

int
store_node_check(MDB_txn *txn, MDB_dbi meta, int has_records, int node,
    char *err, size_t errlen)
{
	MDB_val	 k, v;
	char	 num[8], *end;
	long	 had;
	int	 rc;

	k.mv_data = (void *)DB_META_NODE;
	k.mv_size = strlen(DB_META_NODE);
	rc = mdb_get(txn, meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		/* records from before node numbers are node 0's */
		if (has_records && node != 0 && node != STORE_NODE_ANY) {
			snprintf(err, errlen, "the store holds records of node"
			    " 0; this configuration says node = %d", node);
			return -1;
		}
	} else if (rc != 0) {
		snprintf(err, errlen, "meta node: %s", mdb_strerror(rc));
		return -1;
	} else {
		if (v.mv_size == 0 || v.mv_size >= sizeof(num)) {
			snprintf(err, errlen, "meta node is damaged");
			return -1;
		}
		memcpy(num, v.mv_data, v.mv_size);
		num[v.mv_size] = '\0';
		/* a collector's store takes everyone's records */
		if (strcmp(num, "*") == 0)
			return 0;
		had = strtol(num, &end, 10);
		if (*end != '\0' || had < 0 || had > STORE_NODE_MAX) {
			snprintf(err, errlen, "meta node is damaged");
			return -1;
		}
		if (had == node)
			return 0;
		if (node != STORE_NODE_ANY) {
			snprintf(err, errlen, "the store holds records of node"
			    " %ld; this configuration says node = %d", had,
			    node);
			return -1;
		}
	}
	if ((rc = store_node_put(txn, meta, node)) != 0) {
		snprintf(err, errlen, "meta node: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}
