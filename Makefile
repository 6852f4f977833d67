# mtrack - click and open tracking for Postfix
#
# make            build milter/mtrack-milter, tracker/mtrack-tracker, ctl/mtrackctl
# make check      every test (unit, unit under ASan+UBSan, end to end); TAP through prove
# make run        tracker and milter in the foreground on the embedded default
# make demo       a private Postfix on loopback, one newsletter through it, a click and an open
# make deps       install the Debian packages needed to build, test and run
# make bench      benchmarks (ratios against baselines measured in the same run)
# make fuzz       libFuzzer targets under ASan+UBSan (FUZZ_SECONDS per target)
# make install    binaries, man pages, units, docs, data under PREFIX (DESTDIR);
#                 the example config as SYSCONFDIR/mtrack/mtrack.conf unless one exists
# make uninstall  remove what install put there (not the config)
# make deb        build the Debian package, lintian it; as root install it and
#                 check the installed programs

CC	?= cc
PREFIX	?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
SBINDIR	 = $(PREFIX)/sbin
MANDIR	 = $(PREFIX)/share/man
DOCDIR	 = $(PREFIX)/share/doc/mtrack
DATADIR	 = $(PREFIX)/share/mtrack
UNITDIR	?= $(PREFIX)/lib/systemd/system
# NODEPS=1: do not check or install the build dependencies (package builds)
NODEPS	?=
# the upstream part of the Debian version: one place for the number
VERSION	:= $(shell head -n 1 debian/changelog 2>/dev/null | tr -d '()' | cut -d' ' -f2 | cut -d- -f1)
O	?= build
SAN	?=

PKGS	 = gmime-3.0 libmicrohttpd lmdb jansson nettle libpsl gnutls ldns
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wwrite-strings -Werror
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CPPFLAGS) $(CFLAGS) -D_GNU_SOURCE -Ishared \
	   -DMTRACK_VERSION='"$(VERSION)"' \
	   -DCONFIG_DEFAULT_PATH='"$(SYSCONFDIR)/mtrack/mtrack.conf"' \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmilter -lpthread
ifneq ($(SAN),)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN	 = -fsanitize=address,undefined
endif

SHARED_SRC  = $(wildcard shared/*.c)
MILTER_SRC  = $(wildcard milter/*.c)
TRACKER_SRC = $(wildcard tracker/*.c)
CTL_SRC     = $(wildcard ctl/*.c)
UNIT_SRC    = $(wildcard tests/unit/test_*.c)

obj	 = $(patsubst %.c,$(O)/%.o,$(1))
LIB	 = $(O)/libmtrack.a
UNIT_BIN = $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))

BINS	 = milter/mtrack-milter tracker/mtrack-tracker ctl/mtrackctl
DEPS_OK	 = $(O)/.deps-ok

.PHONY: all deps check unit unit-san e2e run demo bench fuzz install uninstall deb clean
all: $(DEPS_OK) $(BINS)

# deps: install what is missing (as root), or print the command to do it.
$(DEPS_OK): contrib/debian-packages
	@[ -n "$(NODEPS)" ] || sh contrib/install-deps.sh
	@mkdir -p $(O) && touch $@
deps:
	@sh contrib/install-deps.sh

$(O)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(SHARED_SRC))
	rm -f $@
	ar rcs $@ $^

milter/mtrack-milter: $(call obj,$(MILTER_SRC)) $(LIB)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)
tracker/mtrack-tracker: $(call obj,$(TRACKER_SRC)) $(LIB)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)
ctl/mtrackctl: $(call obj,$(CTL_SRC)) $(LIB)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIB)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

unit: $(UNIT_BIN)

# check: unit tests, the same unit tests under ASan+UBSan, then end to end.
check: all unit
	@$(MAKE) --no-print-directory O=build/san SAN=1 unit
	@sh tests/run.sh $(O) build/san

e2e: all
	@prove -f tests/e2e/*.t

run: all
	@sh contrib/run.sh

demo: all
	@sh contrib/demo.sh

bench: all
	@sh bench/run.sh

fuzz: $(DEPS_OK)
	@sh tests/fuzz/run.sh

MAN8	 = man/mtrack-milter.8 man/mtrack-tracker.8 man/mtrackctl.8
MAN5	 = man/mtrack.conf.5
UNITS	 = contrib/systemd/mtrack-milter.service contrib/systemd/mtrack-tracker.service
DOCS	 = README.md $(wildcard docs/*.md)
EXAMPLES = contrib/mtrack.conf $(wildcard contrib/examples/*.conf) \
	   contrib/postfix/main.cf.snippet contrib/postfix/master.cf.snippet
NETWORKS = $(wildcard contrib/networks/*)
CONF	 = $(DESTDIR)$(SYSCONFDIR)/mtrack/mtrack.conf

# install: the units name the installed binaries; the config keeps its
# store under /var/lib/mtrack and is never overwritten.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(DATADIR)/networks $(DESTDIR)$(SYSCONFDIR)/mtrack
	install -m 755 milter/mtrack-milter tracker/mtrack-tracker $(DESTDIR)$(SBINDIR)/
	install -m 755 ctl/mtrackctl $(DESTDIR)$(BINDIR)/
	install -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	for u in $(UNITS); do \
	    sed -e 's|/usr/sbin/|$(SBINDIR)/|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 $(NETWORKS) $(DESTDIR)$(DATADIR)/networks/
	install -m 755 contrib/acme/mtrack-deploy-hook $(DESTDIR)$(DATADIR)/
	@if [ -e $(CONF) ]; then echo "install: $(CONF) exists, left as it is"; else \
	    sed -e 's|^db_path = .*|db_path = /var/lib/mtrack/db|' contrib/mtrack.conf > $(CONF) && \
	    chmod 644 $(CONF) && echo "install: wrote $(CONF)"; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mtrack-milter $(DESTDIR)$(SBINDIR)/mtrack-tracker \
	    $(DESTDIR)$(BINDIR)/mtrackctl
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	@[ ! -e $(CONF) ] || echo "uninstall: $(CONF) kept (remove it by hand)"

# deb: from a copy of the tree (dpkg-buildpackage writes beside it)
DEB_DIR	 = $(O)/deb
deb:
	@sh contrib/deb.sh $(DEB_DIR) $(VERSION)

clean:
	rm -rf build $(BINS)

-include $(shell find $(O) -path $(O)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
.SECONDARY:
