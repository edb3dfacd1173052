// Package transform turns decoded Engage answers and webhook bodies into
// warehouse rows.
//
// Every function is pure: no I/O, no clock, no database. What a function cannot
// place (a day outside its window, a negative range) is an error, so a bad API
// answer fails its window instead of loading something wrong.
package transform
