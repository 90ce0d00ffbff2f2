# fake_ini.awk - one pass over an INI file for fake_devstack.sh's ini helpers
#
# Variables: action (get, getmulti, insert, replace, delete), sec, opt, val.
# A section starts at a line "[sec]..." and ends at the next "[...]" line;
# an option line starts with opt, optional blanks and "=" (DevStack's
# "^\[$section\]" and "^$option[ \t]*=", as literal strings).
#
# get/getmulti print the option's lines (getmulti: values only); insert adds
# "opt = val" right after each header of the section; replace sets the value
# of the option's lines; delete drops them.

function header(line) { return line ~ /^\[.*\]/ }
function is_option(line) {
    return substr(line, 1, length(opt)) == opt &&
        substr(line, length(opt) + 1) ~ /^[ \t]*=/
}
BEGIN { insec = 0; out = ""; reading = (action == "get" || action == "getmulti") }
{
    if (header($0)) {
        insec = (substr($0, 1, length(sec) + 2) == "[" sec "]")
        if (!reading) print
        if (insec && action == "insert") print opt " = " val
        next
    }
    if (insec && is_option($0)) {
        if (reading) {
            line = $0
            if (action == "getmulti") sub(/^[^=]*=[ \t]*/, "", line)
            out = out (out == "" ? "" : "\n") line
            next
        }
        if (action == "delete") next
        if (action == "replace") {
            match($0, /^[^=]*=[ \t]*/)
            print substr($0, 1, RLENGTH) val
            next
        }
    }
    if (!reading) print
}
END { if (reading) printf "%s", out }
