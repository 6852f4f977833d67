# mtrack - click and open tracking for Postfix
#
# make            build milter/mtrack-milter, tracker/mtrack-tracker, ctl/mtrackctl
# make check      every test (unit, unit under ASan+UBSan, end to end); TAP through prove
# make run        tracker and milter in the foreground on the embedded default
# make demo       a private Postfix on loopback, one newsletter through it, a click and an open
# make deps       install the Debian packages needed to build, test and run
# make bench      benchmarks (ratios against baselines measured in the same run)
# make fuzz       libFuzzer targets under ASan+UBSan (FUZZ_SECONDS per target)

CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=
O	?= build
SAN	?=

PKGS	 = gmime-3.0 libmicrohttpd lmdb jansson nettle libpsl gnutls ldns libxxhash
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wwrite-strings -Werror
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Ishared \
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

.PHONY: all deps check unit unit-san e2e run demo bench fuzz install clean
all: $(DEPS_OK) $(BINS)

# deps: install what is missing (as root), or print the command to do it.
$(DEPS_OK): contrib/debian-packages
	@sh contrib/install-deps.sh
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

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 755 milter/mtrack-milter tracker/mtrack-tracker $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 ctl/mtrackctl $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build $(BINS)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
.SECONDARY:
