#!/usr/bin/perl
# milter.pl - speak the milter protocol to mtrack-milter the way Postfix 3.7
# does, and print what came back, one "key value" line per observation.
#
#   perl milter.pl PORT tracked N   N messages from 127.0.0.1 on one connection
#   perl milter.pl PORT inbound     one message from 192.0.2.1
#   perl milter.pl PORT held FILE   one message from 127.0.0.1; before its end
#                                   of message print "held" and wait (30 s at
#                                   most) until FILE exists
#
# Lines: "negotiated PROTOCOL_MASK" (hex); per message "early BYTES" (what
# the milter sent before DATA, to events it must not answer), "data REPLY",
# "eom REPLIES" (the reply letters), "tracked yes|no" (the new body has a
# tracking link) and "gap MS" (between the last two replies at end of
# message). Frames: 4-byte big-endian length, a command letter, data.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($port, $what, $n) = @ARGV;
die "usage: milter.pl PORT tracked N | inbound | held FILE\n"
	unless $port && $what && ($what eq 'inbound' || $n);
my $hold = $what eq 'held' ? $n : undef;
$n = 1 if $what eq 'inbound' || $what eq 'held';
$| = 1;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
	or die "connect: $!\n";
binmode $s;

sub put {	# put CMD DATA: one frame, not flushed to wait for a reply
	my ($cmd, $data) = @_;
	$data //= '';
	syswrite($s, pack('N', 1 + length $data) . $cmd . $data) or die "write: $!\n";
}
sub get {	# get: (cmd, data, arrival time) of the next frame
	my $buf = '';
	while (length $buf < 4) {
		sysread($s, $buf, 4 - length $buf, length $buf) or die "read: eof\n";
	}
	my $len = unpack('N', $buf);
	my $t = time;
	$buf = '';
	while (length $buf < $len) {
		sysread($s, $buf, $len - length $buf, length $buf) or die "read: eof\n";
	}
	return (substr($buf, 0, 1), substr($buf, 1), $t);
}
sub pending {	# bytes the milter sent without being asked, within 0.3 s
	my $sel = IO::Select->new($s);
	return 0 unless $sel->can_read(0.3);
	my $buf;
	return sysread($s, $buf, 65536) // 0;
}

# what Postfix 3.7 offers: version 6, all actions, every protocol step bit
put('O', pack('NNN', 6, 0x1ff, 0x1fffff));
my ($cmd, $data) = get();
die "no option negotiation reply\n" unless $cmd eq 'O';
my $proto = (unpack('NNN', $data))[2];
printf "negotiated 0x%x\n", $proto;
my $sp = $proto & 0x100000 ? ' ' : '';	# SMFIP_HDR_LEADSPC

my ($host, $addr) = $what eq 'inbound' ? ('mx.example.org', '192.0.2.1') :
	('localhost', '127.0.0.1');
put('D', "C{daemon_name}\0mtrack-test\0");
put('C', "$host\0" . '4' . pack('n', 25000) . "$addr\0");
for my $i (1 .. $n) {
	put('D', "Mi\0QID$i\0");
	put('M', "<news\@example.com>\0");
	put('R', "<reader\@example.net>\0");
	print "early ", pending(), "\n";
	put('D', "Ti\0QID$i\0");
	put('T');
	($cmd) = get();
	print "data $cmd\n";
	next if $cmd ne 'c';
	put('L', "From\0${sp}news\@example.com\0");
	put('L', "To\0${sp}reader\@example.net\0");
	put('L', "Subject\0${sp}test $i\0");
	put('L', "Message-ID\0${sp}<proto-$i\@example.com>\0");
	put('L', "MIME-Version\0${sp}1.0\0");
	put('L', "Content-Type\0${sp}text/html; charset=utf-8\0");
	put('B', "<html><body><p><a href=\"https://www.example.com/a\">a</a></p></body></html>\r\n");
	print "early ", pending(), "\n";
	if (defined $hold) {
		print "held\n";
		for (1 .. 600) { last if -e $hold; select(undef, undef, undef, 0.05) }
	}
	put('E');
	my ($letters, $body, @t) = ('', '');
	for (;;) {
		my ($c, $d, $t) = get();
		$letters .= $c;
		push @t, $t;
		$body .= $d if $c eq 'b';
		last if $c =~ /^[acdrt]$/;
	}
	print "eom $letters\n";
	print "tracked ", ($body =~ m{/click/} ? "yes" : "no"), "\n";
	printf "gap %.1f\n", @t > 1 ? 1000 * ($t[-1] - $t[-2]) : 0;
	put('A');
}
put('Q');
close $s;
