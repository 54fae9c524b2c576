package sshconfig

import "os/user"

func lookupUser() (name, home string, err error) {
	u, err := user.Current()
	if err != nil {
		return "", "", err
	}
	return u.Username, u.HomeDir, nil
}
